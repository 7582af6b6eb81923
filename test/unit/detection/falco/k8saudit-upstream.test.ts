// Falco's own k8saudit rules (falcosecurity/plugins plugins/k8saudit/rules/k8s_audit_rules.yaml), read
// unmodified from a checkout outside this repository, over the shipped recording's telemetry.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadFalcoRules } from '../../../../src/detection/falco/index.js'
import { correlate, harnessTraffic } from '../../../../src/run/correlate.js'
import { readRecording } from '../../../../src/run/record.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'
import { parseLine } from '../../../../src/telemetry/normalize.js'

const RULES = process.env.PURPLEKIND_FALCO_RULES
const RECORDING = join(import.meta.dirname, '../../../fixtures/recordings/t1552.007-local')

if (!RULES) {
  console.log(
    'skipping the upstream Falco rules check: set PURPLEKIND_FALCO_RULES to a k8s_audit_rules.yaml from falcosecurity/plugins',
  )
}

describe.skipIf(!RULES)('Falco k8s_audit_rules.yaml, unmodified, over the t1552.007 recording', () => {
  it('loads and fires on the exec and secret-read steps', async () => {
    const path = RULES as string
    const { rules, issues } = loadFalcoRules([{ path, text: readFileSync(path, 'utf8') }])
    for (const i of issues) console.log(`unsupported: ${i.path}: ${i.message} [${i.code}]`)
    expect(issues).toEqual([])
    expect(rules.length).toBeGreaterThan(40)

    const rec = await readRecording(RECORDING)
    const file = join(RECORDING, 'telemetry', 'k8s-audit.jsonl')
    const events: TelemetryEvent[] = readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => parseLine(line, 'k8s-audit', { origin: { file, line: i + 1 } }))
    const fired = new Map<TelemetryEvent, string[]>()
    for (const e of events) {
      const names = rules.filter((r) => r.match(e)).map((r) => r.id)
      if (names.length) fired.set(e, names)
    }
    const byStep = new Map<string, Set<string>>()
    for (const step of rec.steps) {
      const { events: own } = correlate(
        step.trace,
        events,
        harnessTraffic(rec.harnessAuditIDs, step.trace.auditIDs),
      )
      byStep.set(`${step.scenario}/${step.step}`, new Set(own.flatMap((e) => fired.get(e) ?? [])))
    }
    console.log([...byStep].map(([step, names]) => `${step}: ${[...names].join(', ') || '—'}`).join('\n'))

    const execSteps = [
      't1552.007.exec-sa-token/read-token',
      't1552.007.exec-sa-token/read-hostname',
      't1552.007.imds-and-cloud-cli/imds-list-role',
      't1552.007.imds-and-cloud-cli/imds-get-credentials',
      't1552.007.imds-and-cloud-cli/aws-list-access-keys',
      't1552.007.imds-and-cloud-cli/az-sp-list',
      't1552.007.imds-and-cloud-cli/imds-instance-id',
      't1552.007.imds-and-cloud-cli/aws-version',
    ]
    for (const step of execSteps) expect(byStep.get(step), step).toContain('Attach/Exec Pod')
    for (const step of [
      't1552.007.read-secret/describe-secret',
      't1552.007.read-secret/get-secret-yaml',
      't1552.007.read-secret/app-reads-own-secret',
    ]) {
      expect(byStep.get(step), step).toContain('K8s Secret Get Successfully')
    }
    // Falco's secret rule keys on `get`: listing secrets (kubectl get secrets) raises nothing from it.
    expect(byStep.get('t1552.007.list-secrets/list-all-namespaces')).not.toContain(
      'K8s Secret Get Successfully',
    )
    // The exec rule fires once per exec (on ResponseStarted), with argv[0] as the command.
    const execAlerts = [...fired].filter(([, names]) => names.includes('Attach/Exec Pod'))
    expect(execAlerts).toHaveLength(8)
    const exec = rules.find((r) => r.id === 'Attach/Exec Pod')!
    expect(exec.describe?.(execAlerts[0]![0])).toMatch(
      /^Attach\/Exec to pod \(user=purplekind-admin pod=web-0 .*command=cat\)$/,
    )
  })
})
