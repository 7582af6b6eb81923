import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../../src/detection/engine.js'
import { loadRules } from '../../../src/detection/load-rules.js'
import type { Alert, FieldVeto, RuleSet } from '../../../src/detection/types.js'

// Vetoes skip parsing a line when its bytes prove a rule's `not` part holds (veto.ts). Every line here
// is one an attacker could write to make that proof wrong; the engine must alert on exactly what the
// unfiltered engine alerts on, and the vetoes must still skip the plain lines.
const RULES: Record<string, string> = {
  'secrets-read.yml': `title: Secret read by a person
id: 6b1f1c4e-0000-4000-8000-000000000001
logsource: { product: kubernetes, service: audit }
detection:
  selection:
    objectRef.resource: secrets
  filter_system:
    user.username|startswith:
      - 'system:node:'
      - 'system:kube-'
  filter_operator:
    user.username: system:serviceaccount:argocd:argocd
  condition: selection and not 1 of filter_*
level: medium
`,
  'anonymous.yml': `title: Anonymous request beyond health endpoints
id: 6b1f1c4e-0000-4000-8000-000000000002
logsource: { product: kubernetes, service: audit }
detection:
  selection:
    user.username: system:anonymous
  filter_health:
    requestURI|startswith: /readyz
  condition: selection and not filter_health
level: high
`,
  'outside.yml': `title: Secret read from outside the cluster networks
id: 6b1f1c4e-0000-4000-8000-000000000004
logsource: { product: kubernetes, service: audit }
detection:
  selection:
    objectRef.resource: secrets
  filter_private:
    sourceIPs|cidr:
      - 10.0.0.0/8
      - 192.168.0.0/16
  condition: selection and not filter_private
level: high
`,
  'cased.yml': `title: Cased filter
id: 6b1f1c4e-0000-4000-8000-000000000003
logsource: { product: kubernetes, service: audit }
detection:
  selection:
    objectRef.resource: configmaps
  filter:
    user.username|cased|startswith: 'system:node:'
  condition: selection and not filter
level: low
`,
}

const line = (
  user: string,
  rest = '"objectRef":{"resource":"secrets","name":"s1"}',
  from = '"sourceIPs":["10.0.0.5"]',
) =>
  `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","requestURI":"/api/v1/secrets","verb":"get",${user},${from},${rest},"annotations":{"authorization.k8s.io/reason":"RBAC: allowed by \\"x\\""},"stageTimestamp":"2026-01-12T08:00:00.000001Z"}`

const SYSTEM = '"user":{"username":"system:node:n1"}'
const SECRETS = '"objectRef":{"resource":"secrets","name":"s1"}'

/** A veto's test on a value as the engine applies it. */
const holds = (veto: FieldVeto, value: string) => veto.test(veto.lower ? value.toLowerCase() : value)

/** [name, line, whether the unfiltered engine alerts on it]. */
const CASES: [string, string, boolean][] = [
  ['from outside the cluster networks', line(SYSTEM, SECRETS, '"sourceIPs":["8.8.8.8"]'), true],
  [
    'first address outside, second inside: not proven, parsed',
    line(SYSTEM, SECRETS, '"sourceIPs":["8.8.8.8","10.0.0.1"]'),
    false,
  ],
  [
    'duplicate sourceIPs, the last outside',
    line(SYSTEM, SECRETS, '"sourceIPs":["10.0.0.1"],"sourceIPs":["8.8.8.8"]'),
    true,
  ],
  [
    'an address written with an escape (vetoed)',
    line(SYSTEM, SECRETS, '"sourceIPs":["10.0.0.\\u0031"]'),
    false,
  ],
  ['a string, not an array (vetoed)', line(SYSTEM, SECRETS, '"sourceIPs":"192.168.1.1"'), false],
  ['a number first: not proven, parsed', line(SYSTEM, SECRETS, '"sourceIPs":[10]'), true],
  ['plain system user (vetoed)', line('"user":{"username":"system:node:n1","groups":[]}'), false],
  ['operator, exact (vetoed)', line('"user":{"username":"system:serviceaccount:argocd:argocd"}'), false],
  [
    'operator name as a prefix only',
    line('"user":{"username":"system:serviceaccount:argocd:argocd2"}'),
    true,
  ],
  ['a person', line('"user":{"username":"alice"}'), true],
  [
    'upper-case value, compared case-insensitively as Sigma does (vetoed)',
    line('"user":{"username":"SYSTEM:NODE:n1"}'),
    false,
  ],
  [
    'duplicate top-level user, last wins',
    line('"user":{"username":"system:node:n1"},"user":{"username":"mallory"}'),
    true,
  ],
  ['duplicate username inside user', line('"user":{"username":"system:node:n1","username":"mallory"}'), true],
  [
    'escaped second user key',
    line('"user":{"username":"system:node:n1"},"us\\u0065r":{"username":"mallory"}'),
    true,
  ],
  [
    'escaped second username key',
    line('"user":{"username":"system:node:n1","us\\u0065rname":"mallory"}'),
    true,
  ],
  ['dotted key read first', line('"user":{"username":"system:node:n1"},"user.username":"mallory"'), true],
  [
    'user only nested, none at the top',
    line('"objectRef":{"resource":"secrets","user":{"username":"system:node:n1"}}', '"x":1'),
    true,
  ],
  ['whitespace: not proven, parsed', line('"user": {"username": "system:node:n1"}'), false],
  ['another key first: not proven, parsed', line('"user":{"uid":"1","username":"system:node:n1"}'), false],
  [
    'an escape after the prefix: the value still starts with it (vetoed)',
    line('"user":{"username":"system:node:\\u0041"}'),
    false,
  ],
  [
    'an array whose first element is a system user (vetoed)',
    line('"user":{"username":["system:node:n1"]}'),
    false,
  ],
  [
    'an EventList: its items are the events',
    `{"kind":"EventList","items":[${line('"user":{"uid":"1"}')}],"user":{"username":"system:node:n1"},"objectRef":{"resource":"secrets"}}`,
    true,
  ],
  [
    'an EventList spelled with an escape',
    `{"kind":"Event\\u004cist","items":[${line('"user":{"uid":"1"}')}],"user":{"username":"system:node:n1"},"objectRef":{"resource":"secrets"}}`,
    true,
  ],
  [
    'anonymous health probe (vetoed)',
    `{"kind":"Event","auditID":"b","requestURI":"/readyz","verb":"get","user":{"username":"system:anonymous"},"stageTimestamp":"2026-01-12T08:00:00Z"}`,
    false,
  ],
  [
    'anonymous, duplicate requestURI',
    `{"kind":"Event","auditID":"b","requestURI":"/readyz","verb":"get","user":{"username":"system:anonymous"},"requestURI":"/api","stageTimestamp":"2026-01-12T08:00:00Z"}`,
    true,
  ],
  [
    'cased filter, other case: the rule fires',
    line('"user":{"username":"SYSTEM:NODE:n1"}', '"objectRef":{"resource":"configmaps"}'),
    true,
  ],
  [
    'cased filter, same case (vetoed)',
    line('"user":{"username":"system:node:n1"}', '"objectRef":{"resource":"configmaps"}'),
    false,
  ],
]

describe('vetoes (rules proven not to match from the raw line)', () => {
  let dir: string
  let ruleSet: RuleSet
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'purplekind-veto-'))
    const rules = join(dir, 'rules')
    await mkdir(rules)
    for (const [name, text] of Object.entries(RULES)) await writeFile(join(rules, name), text)
    ruleSet = await loadRules([rules])
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function run(lines: string[], prefilter: boolean) {
    const file = join(dir, 'events.jsonl')
    await writeFile(file, `${lines.join('\n')}\n`)
    const alerts: Alert[] = []
    const stats = await new Engine(ruleSet, { prefilter }).evaluateFile(file, { source: 'k8s-audit' }, (a) =>
      alerts.push(a),
    )
    return { alerts, stats }
  }

  it('the rules carry the vetoes their filters give', () => {
    const vetoes = Object.fromEntries(ruleSet.rules.map((r) => [r.title, r.vetoes]))
    const [system, operator] = vetoes['Secret read by a person']!
    expect([system?.field, operator?.field]).toEqual(['user.username', 'user.username'])
    expect(
      ['system:node:n1', 'SYSTEM:KUBE-x', 'alice', 'xsystem:node:'].map((x) => holds(system!, x)),
    ).toEqual([true, true, false, false])
    expect(
      ['system:serviceaccount:argocd:argocd', 'system:serviceaccount:argocd:argocd2'].map((x) =>
        holds(operator!, x),
      ),
    ).toEqual([true, false])
    const [cased] = vetoes['Cased filter']!
    expect(['system:node:x', 'SYSTEM:NODE:x'].map((x) => holds(cased!, x))).toEqual([true, false])
    const [cidr] = vetoes['Secret read from outside the cluster networks']!
    expect(cidr?.field).toBe('sourceIPs')
    expect(['10.1.2.3', '192.168.0.9', '8.8.8.8', 'x'].map((x) => holds(cidr!, x))).toEqual([
      true,
      true,
      false,
      false,
    ])
  })

  for (const mode of ['per line (calibration)', 'whole blocks'] as const) {
    it(`alerts exactly as the unfiltered engine on hostile lines, ${mode}`, async () => {
      // Past 2,000 lines the engine handles whole blocks; before, it scans line by line.
      // Mostly lines no rule's literal is in (else calibration drops the prefilter), a tenth vetoed ones.
      const other = line('"user":{"username":"alice"}', '"objectRef":{"resource":"pods"}')
      const filler =
        mode === 'whole blocks' ? Array.from({ length: 2500 }, (_, i) => (i % 10 ? other : line(SYSTEM))) : []
      const lines = [...filler, ...CASES.map(([, l]) => l)]
      const fast = await run(lines, true)
      const full = await run(lines, false)
      expect(fast.alerts).toEqual(full.alerts)
      const alerted = new Set(full.alerts.map((a) => (a.event ?? 0) - filler.length))
      CASES.forEach(([name, , alerts], i) => {
        expect(alerted.has(i), name).toBe(alerts)
      })
      // Not vacuous: the plain system lines were never parsed.
      const vetoable = CASES.filter(([name]) => name.endsWith('(vetoed)')).length
      expect(fast.stats.parsed).toBe(full.stats.parsed - filler.length - vetoable)
    })
  }
})
