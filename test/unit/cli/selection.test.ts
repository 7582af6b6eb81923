import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { reportSchema } from '../../../src/report/report-schema.js'

// `replay --only/--technique/--tag` against the shipped recording: only the selected steps are judged
// and reported, none of the others appears as a pass, and every output says the run is partial.
// Spawns the built CLI (npm test builds first).
const cli = (...args: string[]) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, env: { NO_COLOR: '1' } })
const RECORDING = 'test/fixtures/recordings/t1552.007-local'

describe('replay with a selection', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-select-'))
  afterAll(() => rm(dir, { recursive: true, force: true }))
  const r = await cli(
    '--json',
    'replay',
    RECORDING,
    'scenarios/t1552.007',
    '--only',
    't1552.007.list-secrets/list-*',
    '--only',
    '*exec-sa-token/use-token',
    '--reports',
    dir,
  )
  const read = (f: string) => readFile(path.join(dir, 'latest', f), 'utf8')

  it('judges only the selected steps (plus the token step use-token needs) and exits 0', async () => {
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const json = JSON.parse(await read('report.json'))
    expect(reportSchema.safeParse(json).success).toBe(true)
    expect(json.steps.map((s: { step: string }) => s.step)).toEqual([
      'list-all-namespaces',
      'list-one-namespace',
      'read-token',
      'use-token',
    ])
    expect(json.summary.steps).toBe(4)
    expect(json.selection).toMatchObject({
      selectedSteps: 4,
      definedSteps: 24,
      prerequisites: ['t1552.007.exec-sa-token/read-token'],
    })
    // Recorded steps outside the selection are not "stale".
    expect(json.findings.filter((f: { kind: string }) => f.kind === 'stale-recording')).toEqual([])
  })

  it('report.md, junit.xml and the Navigator layer name the selection; no other step appears', async () => {
    const md = await read('report.md')
    expect(md).toContain('> **Partial run:** selection: --only t1552.007.list-secrets/list-\\*')
    expect(md).not.toContain('describe-secret')
    const junit = await read('junit.xml')
    expect(junit).toContain('<property name="selection" value="--only t1552.007.list-secrets/list-*')
    expect(junit).toContain('tests="4"')
    expect(junit).not.toContain('describe-secret')
    const layer = await read('navigator-layer.json')
    expect(layer).toContain('Partial run — selection:')
    expect(layer).not.toContain('describe-secret')
  })

  it('--tag and --technique select on the CLI too; a selection matching nothing exits 2', async () => {
    const d2 = path.join(dir, 'tag')
    const t = await cli('--json', 'replay', RECORDING, 'scenarios', '--tag', 'docker', '--reports', d2)
    expect(JSON.parse(t.stdout).summary.steps).toBe(2)
    const none = await cli(
      '--json',
      'replay',
      RECORDING,
      'scenarios',
      '--technique',
      'T9999',
      '--reports',
      d2,
    )
    expect(none.exitCode).toBe(2)
    expect(JSON.parse(none.stdout).error.code).toBe('PURPLE_USAGE')
  })

  it('list previews a selection', async () => {
    const l = await cli('--json', 'list', 'scenarios', '--technique', 'T1609')
    const rows = JSON.parse(l.stdout) as { id: string; steps: { techniques: string[] }[] }[]
    expect(rows.length).toBeGreaterThan(0)
    for (const s of rows) for (const st of s.steps) expect(st.techniques).toContain('T1609')
  })
})
