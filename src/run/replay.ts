import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Engine } from '../detection/engine.js'
import type { CompiledRule, RuleSet } from '../detection/types.js'
import { PurpleError } from '../errors.js'
import type { Scenario } from '../scenario/load.js'
import { SOURCES, type TelemetryEvent } from '../telemetry/event.js'
import { parseLine } from '../telemetry/normalize.js'
import { assembleResult } from './assemble.js'
import { correlate, harnessTraffic } from './correlate.js'
import { judgeStep, unrunStep } from './judge.js'
import type { DetectionPipeline } from './pipelines/pipeline.js'
import { readRecording } from './record.js'
import type { Finding, RunResult, StepResult } from './result.js'
import { TelemetryBus } from './telemetry-bus.js'

/**
 * Re-asserts scenarios' expectations against a recorded run, with no lab: the recorded telemetry goes
 * through today's rules, is tied to each recorded action exactly as live, and verdicts are decided again.
 * Offline, an alert's time is its event's time, so latency here is action → event time.
 */
export async function replayRecording(
  dir: string,
  scenarios: readonly Scenario[],
  ruleSet: RuleSet,
  runId: string,
  /** Detection pipelines (`--pipeline`); default: the built-in engines over `ruleSet`. */
  pipelines?: readonly DetectionPipeline[],
  /** Every loaded scenario, when `scenarios` is a selection: recorded steps outside it are not stale. */
  allScenarios: readonly Scenario[] = scenarios,
): Promise<RunResult> {
  const rec = await readRecording(dir)
  const events: TelemetryEvent[] = []
  for (const source of SOURCES) {
    const file = path.join(dir, 'telemetry', `${source}.jsonl`)
    if (!existsSync(file)) continue
    // Recordings are small (one run): read whole, unlike `evaluate`, which streams.
    const lines = (await readFile(file, 'utf8')).split('\n')
    lines.forEach((text, i) => {
      if (text.trim()) events.push(...parseLine(text, source, { origin: { file, line: i + 1 } }))
    })
  }
  events.sort((a, b) => a.timeMs - b.timeMs)
  const bus = await detectOffline(events, ruleSet, pipelines)
  const rules = new Map<string, CompiledRule>(ruleSet.rules.map((r) => [r.id, r]))
  const ignore = new Set(rec.harnessAuditIDs)
  const steps: StepResult[] = []
  const findings: Finding[] = []
  const key = (scenario: string, step: string) => `${scenario}/${step}`
  const recorded = new Map(rec.steps.map((rs) => [key(rs.scenario, rs.step), rs]))
  const skipped = new Map((rec.skipped ?? []).map((k) => [key(k.scenario, k.step), k.reason]))
  const defined = new Set(allScenarios.flatMap((s) => s.steps.map((st) => key(s.metadata.id, st.id))))
  for (const rs of rec.steps) {
    if (!defined.has(key(rs.scenario, rs.step)))
      findings.push({
        kind: 'stale-recording',
        step: key(rs.scenario, rs.step),
        message: `recording step ${rs.scenario}/${rs.step} has no scenario step any more; skipped`,
      })
  }
  const recordedAt = new Date(Math.min(...rec.steps.map((s) => s.trace.sentAt))).toISOString()
  // Every defined step gets a result, in definition order: one the recording lacks is a gap, never omitted.
  for (const scenario of scenarios) {
    for (const step of scenario.steps) {
      const id = key(scenario.metadata.id, step.id)
      const rs = recorded.get(id)
      if (!rs) {
        const why = skipped.get(id)
        steps.push(
          why !== undefined
            ? unrunStep(scenario, step, 'SKIPPED', `skipped when recorded: ${why}`, recordedAt)
            : unrunStep(
                scenario,
                step,
                'NOT_RECORDED',
                `recording ${rec.runId} has no trace of this step: record it (purplekind run --record <dir>) to replay it`,
                recordedAt,
              ),
        )
        continue
      }
      const corr = correlate(rs.trace, events, harnessTraffic(ignore, rs.trace.auditIDs))
      const alerts = bus.alertsOn(corr.events)
      const { result, findings: found } = judgeStep({
        scenario,
        step,
        actor: rs.actor,
        command: step.run.join(' '),
        exitCode: rs.exitCode,
        stdout: rs.stdout,
        stderr: rs.stderr,
        sentAt: rs.trace.sentAt,
        endedAt: rs.trace.endedAt,
        startedAt: new Date(rs.trace.sentAt).toISOString(),
        canariesRetrieved: rs.canariesRetrieved,
        correlated: corr,
        alerts,
        rules,
      })
      findings.push(...found)
      steps.push(result)
    }
  }
  // An empty selection (an empty --shard) is an empty run; a recording of other scenarios is an error.
  if (steps.length && !steps.some((s) => recorded.has(key(s.scenario, s.step))))
    throw new PurpleError(
      'PURPLE_EVENTS_INVALID',
      `${dir}: the recording matches none of the given scenarios`,
      { hint: `it recorded run ${rec.runId}: ${[...new Set(rec.steps.map((s) => s.scenario))].join(', ')}` },
    )
  const times = rec.steps.map((s) => s.trace.sentAt)
  return assembleResult({
    runId,
    startedAt: new Date(Math.min(...times)).toISOString(),
    finishedAt: new Date(Math.max(...rec.steps.map((s) => s.trace.endedAt))).toISOString(),
    lab: `replay of ${rec.runId}`,
    provider: 'replay',
    manifest: { ...rec.manifest, recordedRun: rec.runId, recordedProvider: rec.provider },
    scenarios,
    steps,
    findings,
    bus,
    ruleSet,
  })
}

// Offline, every event is in: feed them in time order, let each pipeline finish, then read its alerts.
async function detectOffline(
  events: readonly TelemetryEvent[],
  ruleSet: RuleSet,
  pipelines: readonly DetectionPipeline[] | undefined,
): Promise<TelemetryBus> {
  const bus = new TelemetryBus(pipelines ? undefined : new Engine(ruleSet), { clock: 'event' })
  try {
    if (pipelines) await bus.attach(pipelines)
    for (const e of events) bus.push(e)
    await bus.settle()
  } finally {
    await bus.stop()
  }
  return bus
}
