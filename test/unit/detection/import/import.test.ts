import { mkdtempSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Engine } from '../../../../src/detection/engine.js'
import {
  FALCO_SELECTION_FILE,
  macroNames,
  selectContent,
  tagMatches,
  writeSelection,
} from '../../../../src/detection/import/index.js'
import { loadRules } from '../../../../src/detection/load-rules.js'
import { audit, execEvent } from '../falco/helpers.js'

const CONTENT = join(import.meta.dirname, 'content')
const FALCO_FILE = join(import.meta.dirname, '../falco/rules/1-secrets.yaml')
const out = () => mkdtempSync(join(tmpdir(), 'purplekind-import-'))

describe('purplekind import', () => {
  it('matches ATT&CK tags in every content style; a technique selects its sub-techniques', () => {
    expect(tagMatches('attack.t1552.007', 'T1552.007')).toBe(true)
    expect(tagMatches('T1552.007', 'T1552')).toBe(true)
    expect(tagMatches('attack.t1552', 'T1552.007')).toBe(false)
    expect(tagMatches('attack.t15520', 'T1552')).toBe(false)
  })

  it('SigmaHQ: selects by technique and data source, and copies the files byte for byte', async () => {
    const sel = await selectContent(join(CONTENT, 'sigmahq'), { technique: 'T1552.007', source: 'k8s-audit' })
    expect(sel.kind).toBe('sigma')
    expect(sel.rules.map((r) => r.title)).toEqual(['Kubernetes Secrets Listed'])
    const dir = out()
    const written = await writeSelection(sel, dir)
    expect(written).toEqual([join(dir, 'sigma', 'rules/cloud/kubernetes/k8s_secret_list.yml')])
    expect(readFileSync(written[0]!, 'utf8')).toBe(
      readFileSync(join(CONTENT, 'sigmahq/rules/cloud/kubernetes/k8s_secret_list.yml'), 'utf8'),
    )
    const set = await loadRules([join(dir, 'sigma')])
    expect(set.rules.map((r) => r.title)).toEqual(['Kubernetes Secrets Listed'])
  })

  it('SigmaHQ: a technique alone selects across data sources; unreadable candidates are reported, not dropped', async () => {
    const sel = await selectContent(join(CONTENT, 'sigmahq'), { technique: 'T1552.007' })
    expect(sel.rules.map((r) => r.title)).toEqual([
      'Kubernetes Secrets Listed',
      'Service Account Token Read On Host',
    ])
    expect(sel.skipped).toEqual([])
    const broken = join(out(), 'rules')
    await mkdir(broken, { recursive: true })
    await writeFile(
      join(broken, 'bad.yml'),
      'title: Bad\ntags: [attack.t1552.007]\ndetection:\n  condition: nothing\n',
    )
    const bad = await selectContent(join(broken, '..'), { technique: 'T1552.007' })
    expect(bad.rules).toEqual([])
    expect(bad.skipped.map((s) => s.file)).toEqual(['rules/bad.yml'])
  })

  it('ESCU: selects detections with the macros they use, following macros inside macros', async () => {
    const sel = await selectContent(join(CONTENT, 'escu'), { technique: 'T1552.007' })
    expect(sel.kind).toBe('escu')
    expect(sel.rules.map((r) => r.title)).toEqual(['Kubernetes Secret Read By Unusual Agent'])
    expect([...sel.files].sort()).toEqual([
      'detections/cloud/kubernetes_secret_read_unusual_agent.yml',
      'macros/kube_allowed_user_agents.yml',
      'macros/kube_audit.yml',
      'macros/kube_secret_read_filter.yml',
    ])
    expect(macroNames('`a` x | `b(1,2)` | `c`')).toEqual(['a', 'b', 'c'])
  })

  it('Falco: keeps the file whole and switches the other rules off with an override file', async () => {
    const sel = await selectContent(FALCO_FILE, { technique: 'T1552.007' })
    expect(sel.kind).toBe('falco')
    expect(sel.rules.map((r) => r.rule)).toEqual(['Secret Read By Person'])
    const dir = out()
    await writeSelection(sel, dir)
    expect(readFileSync(join(dir, 'falco', '1-secrets.yaml'), 'utf8')).toBe(readFileSync(FALCO_FILE, 'utf8'))
    const selection = readFileSync(join(dir, 'falco', FALCO_SELECTION_FILE), 'utf8')
    expect(selection).toContain(
      '- rule: Exec Into Pod\n  enabled: false\n  override:\n    enabled: replace\n',
    )
    const engine = new Engine(await loadRules([join(dir, 'falco')]))
    expect(engine.evaluateEvents([audit()]).map((a) => a.rule)).toEqual(['Secret Read By Person'])
    expect(engine.evaluateEvents([execEvent('ResponseStarted', 'command=id')])).toEqual([])
  })

  it('needs a technique or a source', async () => {
    await expect(selectContent(FALCO_FILE, {})).rejects.toThrow(/--technique and\/or --source/)
  })
})
