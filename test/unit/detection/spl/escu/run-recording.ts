// Runs compiled rules over the shipped T1552.007 recording and ties alerts to its steps, as replay does.
import { readFileSync } from 'node:fs'
import { Engine } from '../../../../../src/detection/engine.js'
import type { Alert, CompiledRule } from '../../../../../src/detection/types.js'
import { correlate, harnessTraffic } from '../../../../../src/run/correlate.js'
import type { TelemetryEvent } from '../../../../../src/telemetry/event.js'
import { parseLine } from '../../../../../src/telemetry/normalize.js'

export const RECORDING = 'test/fixtures/recordings/t1552.007-local'

export function recordingEvents(): TelemetryEvent[] {
  const file = `${RECORDING}/telemetry/k8s-audit.jsonl`
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) =>
      line.trim() ? parseLine(line, 'k8s-audit', { origin: { file, line: i + 1 } }) : [],
    )
}

/** Per rule: the steps (`scenario/step`) whose events formed an alert of that rule. */
export function firingSteps(rules: CompiledRule[]): { steps: Map<string, string[]>; alerts: Alert[] } {
  const rec = JSON.parse(readFileSync(`${RECORDING}/recording.json`, 'utf8'))
  const events = recordingEvents()
  const engine = new Engine({ rules, correlations: [] })
  const alerts = [...engine.evaluateEvents(events), ...engine.flushPipelines()]
  const steps = new Map<string, string[]>(rules.map((r) => [r.id, []]))
  const ignore = new Set<string>(rec.harnessAuditIDs)
  for (const s of rec.steps) {
    const { events: mine } = correlate(s.trace, events, harnessTraffic(ignore, s.trace.auditIDs))
    const set = new Set(mine)
    for (const a of alerts) {
      const on = a.contributors ?? (a.evidence ? [a.evidence] : [])
      const hit =
        on.some((e) => set.has(e)) || (a.auditID !== undefined && mine.some((e) => e.auditID === a.auditID))
      const list = steps.get(a.rule) as string[]
      const id = `${s.scenario}/${s.step}`
      if (hit && !list.includes(id)) list.push(id)
    }
  }
  return { steps, alerts }
}
