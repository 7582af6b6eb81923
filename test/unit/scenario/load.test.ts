import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../src/errors.js'
import { loadScenarios, parseScenario } from '../../../src/scenario/load.js'
import { scenarioJsonSchema } from '../../../src/scenario/write-schema.js'

const fixture = (name: string) => `test/fixtures/scenarios/${name}`

async function issuesOf(file: string) {
  const r = parseScenario(await readFile(file, 'utf8'), file)
  if (!('issues' in r)) throw new Error('expected issues')
  return r.issues
}

describe('scenario loading', () => {
  it('loads every shipped T1552.007 scenario with defaults applied', async () => {
    const scenarios = await loadScenarios(['scenarios'])
    expect(scenarios.length).toBeGreaterThanOrEqual(7)
    const commands = scenarios.flatMap((s) =>
      s.steps.filter((st) => st.kind === 'attack').map((st) => st.run.join(' ')),
    )
    // The seven seed procedures are all replayed as attack steps.
    for (const seed of [
      'kubectl get secrets',
      'kubectl describe secret',
      'kubectl exec',
      'docker logs',
      'security-credentials/',
      'aws iam list-access-keys',
      'az ad sp list',
    ])
      expect(
        commands.some((c) => c.includes(seed)),
        seed,
      ).toBe(true)
    // Every scenario pairs its attack with at least one benign look-alike.
    for (const s of scenarios.filter((x) => x.steps.some((st) => st.kind === 'attack' && !st.requires)))
      expect(
        s.steps.some((st) => st.kind === 'benign'),
        s.metadata.id,
      ).toBe(true)
  })

  it('applies defaults to a minimal scenario', async () => {
    const [s] = await loadScenarios([fixture('valid-minimal.yaml')])
    expect(s?.setup.namespaces).toEqual([])
    expect(s?.steps[0]?.expect).toMatchObject({ outcome: 'executed', within: '10s', knownGaps: [] })
  })

  it('reports every problem with file, dotted path and a stable code', async () => {
    const issues = await issuesOf(fixture('invalid-many.yaml'))
    const lines = issues.map((i) => `${i.path} ${i.code}`)
    expect(lines).toEqual(
      expect.arrayContaining([
        'metadata.id PURPLE_SCENARIO_INVALID',
        'metadata.techniques[0] PURPLE_SCENARIO_INVALID',
        'metadata.colour PURPLE_SCENARIO_UNKNOWN_FIELD',
        'steps[1].run PURPLE_SCENARIO_INVALID',
        'steps[1].expect.within PURPLE_SCENARIO_INVALID',
      ]),
    )
    expect(issues.every((i) => i.file === fixture('invalid-many.yaml'))).toBe(true)
    expect(issues.find((i) => i.path === 'metadata.colour')?.message).toMatch(
      /unknown field "colour" \(line 8\)/,
    )
  })

  it('cross-checks references once the schema holds', () => {
    const text = `apiVersion: purplekind.io/v1alpha1
kind: Scenario
metadata: { id: refs, title: t, techniques: [T1552.007], tactic: credential-access }
setup:
  secrets: [{ namespace: nowhere, name: s1, canary: aws }]
steps:
  - { id: a, title: t, kind: attack, actor: { token: stolen }, run: [kubectl, get, secrets] }
  - { id: a, title: t, kind: benign, actor: { docker: true }, run: [kubectl, logs, x], expect: { alerts: [r] } }
`
    const r = parseScenario(text, 'refs.yaml')
    expect('issues' in r && r.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(
      expect.arrayContaining([
        'steps[0].actor.token: no earlier step captures "stolen"',
        'steps[1].id: duplicate step id "a"',
        'steps[1].run[0]: a docker actor runs the docker CLI',
        'steps[1].expect.alerts: a benign step expects silence: use expect.silent',
        'setup.secrets[0].namespace: namespace "nowhere" is not in setup.namespaces',
      ]),
    )
  })

  it('reports YAML syntax errors with a line number', async () => {
    const issues = await issuesOf(fixture('invalid-yaml.yaml'))
    expect(issues[0]?.code).toBe('PURPLE_SCENARIO_YAML')
    expect(issues[0]?.path).toMatch(/^line \d+$/)
  })

  it('collects the problems of all files into one ValidationError', async () => {
    const err = await loadScenarios([fixture('invalid-many.yaml'), fixture('invalid-yaml.yaml')]).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ValidationError)
    const files = new Set((err as ValidationError).issues.map((i) => i.file))
    expect(files.size).toBe(2)
  })

  it('refuses a missing path with a coded error', async () => {
    await expect(loadScenarios(['no/such/dir'])).rejects.toMatchObject({ code: 'PURPLE_INPUT_NOT_FOUND' })
  })

  it('exports a JSON Schema that editors can use, matching the checked-in file', async () => {
    const schema = scenarioJsonSchema()
    expect(schema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['apiVersion', 'kind', 'metadata', 'steps']),
    })
    const checkedIn = JSON.parse(await readFile('schemas/scenario.schema.json', 'utf8'))
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(schema)))
  })
})

describe('scenario field codes', () => {
  it('tells a missing field from a wrongly typed one', () => {
    const r = parseScenario(
      'apiVersion: purplekind.io/v1alpha1\nkind: Scenario\nmetadata: { id: x, techniques: [T1552.007], tactic: c }\nsteps:\n  - { id: a, title: t, kind: attack, actor: { user: u }, run: [kubectl, version], expect: { within: 10 } }\n',
      'codes.yaml',
    )
    const byPath = 'issues' in r ? Object.fromEntries(r.issues.map((i) => [i.path, i.code])) : {}
    expect(byPath['metadata.title']).toBe('PURPLE_SCENARIO_MISSING_FIELD')
    expect(byPath['steps[0].expect.within']).toBe('PURPLE_SCENARIO_INVALID')
  })
})
