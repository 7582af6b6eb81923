import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadRules } from '../../../src/detection/load-rules.js'
import { PurpleError, ValidationError } from '../../../src/errors.js'

const RULES = 'test/fixtures/engine/rules'

const sigma = (id: string, extra = '') => `title: Rule ${id}
id: ${id}
logsource:
  product: kubernetes
  service: audit
detection:
  selection:
    verb: list
  condition: selection
${extra}`

async function rejection(promise: Promise<unknown>): Promise<PurpleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(PurpleError)
  return error as PurpleError
}

describe('loadRules', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'purplekind-load-rules-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('loads a directory recursively, in sorted order, ignoring files that are not rules', async () => {
    const set = await loadRules([RULES])
    expect(set.files).toEqual([
      `${RULES}/docker/container-create.yml`,
      `${RULES}/k8s/exec-imds.yml`,
      `${RULES}/k8s/kubectl-exec-command.yml`,
      `${RULES}/k8s/secrets-list.yml`,
      `${RULES}/mr_enum_then_exec.yml`,
      `${RULES}/spl/secret-get.spl`,
    ])
    expect(set.rules.map((r) => [r.id, r.language])).toEqual([
      ['docker-container-create', 'sigma'],
      ['exec-imds', 'sigma'],
      ['kubectl-exec-command', 'sigma'],
      ['secrets-list', 'sigma'],
      ['secret-get', 'spl'],
    ])
  })

  it('names an SPL rule after its file and takes its title from the header', async () => {
    const set = await loadRules([`${RULES}/spl/secret-get.spl`])
    expect(set.rules).toHaveLength(1)
    expect(set.rules[0]).toMatchObject({ id: 'secret-get', title: 'Secret fetched by name', level: 'medium' })
  })

  it('resolves a correlation against rules (by name) from other files, loading base rules first', async () => {
    const set = await loadRules([`${RULES}/mr_enum_then_exec.yml`, `${RULES}/k8s`])
    expect(set.correlations.map((c) => [c.id, c.ruleRefs])).toEqual([
      ['enum-then-exec', ['secrets-list', 'exec-imds']],
    ])
  })

  it('refuses a correlation whose rules are not loaded', async () => {
    const error = await rejection(loadRules([`${RULES}/mr_enum_then_exec.yml`]))
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.message).toContain("unknown rule 'secrets_list'")
  })

  it('refuses an explicitly named file with another extension', async () => {
    const error = await rejection(loadRules([`${RULES}/README.txt`]))
    expect(error.code).toBe('PURPLE_RULE_INVALID')
    expect(error.message).toContain(`${RULES}/README.txt`)
  })

  it('reports every missing path as PURPLE_INPUT_NOT_FOUND', async () => {
    const error = await rejection(loadRules([RULES, join(dir, 'nope'), join(dir, 'nope.yml')]))
    expect(error.code).toBe('PURPLE_INPUT_NOT_FOUND')
    expect(error.message).toContain(join(dir, 'nope'))
    expect(error.message).toContain(join(dir, 'nope.yml'))
  })

  it('refuses a directory without rule files', async () => {
    await writeFile(join(dir, 'notes.md'), '# nothing here\n')
    const error = await rejection(loadRules([dir]))
    expect(error.code).toBe('PURPLE_INPUT_NOT_FOUND')
    expect(error.message).toContain(dir)
  })

  it('names both files when two define the same rule id', async () => {
    await mkdir(join(dir, 'b'))
    await writeFile(join(dir, 'a.yml'), sigma('same-id'))
    await writeFile(join(dir, 'b', 'c.yaml'), sigma('same-id'))
    const error = await rejection(loadRules([dir]))
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).issues).toEqual([
      {
        file: join(dir, 'b', 'c.yaml'),
        path: 'id',
        message: `duplicate rule id 'same-id' (also defined in ${join(dir, 'a.yml')})`,
        code: 'PURPLE_RULE_INVALID',
      },
    ])
  })

  it('loads a file named twice (directly and through its directory) once', async () => {
    await writeFile(join(dir, 'a.yml'), sigma('only-once'))
    const set = await loadRules([join(dir, 'a.yml'), dir])
    expect(set.rules.map((r) => r.id)).toEqual(['only-once'])
  })

  it('collects the problems of every file before failing', async () => {
    await writeFile(join(dir, 'ok.yml'), sigma('fine'))
    await writeFile(join(dir, 'bad-yaml.yml'), 'title: [unclosed\n')
    await writeFile(join(dir, 'bad-modifier.yml'), sigma('bad-mod').replace('verb: list', 'verb|bogus: list'))
    await writeFile(join(dir, 'stats.spl'), 'index=containers verb=list | transaction user\n')
    await writeFile(join(dir, 'other.txt'), 'ignored in a directory')
    const error = await rejection(loadRules([dir, join(dir, 'other.txt')]))
    expect(error).toBeInstanceOf(ValidationError)
    const issues = (error as ValidationError).issues
    const files = [...new Set(issues.map((i) => i.file))].sort()
    expect(files).toEqual(
      ['bad-modifier.yml', 'bad-yaml.yml', 'other.txt', 'stats.spl'].map((f) => join(dir, f)).sort(),
    )
    expect(issues.find((i) => i.file.endsWith('stats.spl'))?.code).toBe('PURPLE_SPL_UNSUPPORTED')
    expect(issues.find((i) => i.file.endsWith('other.txt'))?.code).toBe('PURPLE_RULE_INVALID')
  })

  it('runs an ESCU-shaped detection found among YAML rules as SPL, with its macros', async () => {
    await writeFile(
      join(dir, 'kubernetes_secret_get_by_person.yml'),
      [
        'name: Kubernetes Secret Get By Person',
        'id: 00000000-0000-4000-8000-000000000001',
        "search: '`kube_audit` verb=get objectRef.resource=secrets | fillnull | stats count by user.username",
        "  | `kubernetes_secret_get_by_person_filter`'",
        'tags:',
        '  mitre_attack_id: [T1552.007]',
        '',
      ].join('\n'),
    )
    await writeFile(join(dir, 'macros.conf'), '[kube_audit]\ndefinition = sourcetype="kubernetes:api"\n')
    const set = await loadRules([join(dir, 'kubernetes_secret_get_by_person.yml')], {
      macros: [join(dir, 'macros.conf')],
    })
    expect(set.rules.map((r) => [r.id, r.language, r.title])).toEqual([
      ['kubernetes_secret_get_by_person', 'spl', 'Kubernetes Secret Get By Person'],
    ])
    expect(set.rules[0]?.tags).toContain('attack.t1552.007')
  })
})
