import type { Alert, CompiledRule } from '../detection/types.js'
import type { Scenario } from '../scenario/load.js'
import type { Step } from '../scenario/schema.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import { toEvidence } from './evidence.js'
import type { CorrelationMethod, StepResult } from './result.js'
import { decideVerdict, parseDuration } from './verdict.js'

/** What happened for one step, live or recorded: the inputs to its verdict. */
export interface StepOutcome {
  scenario: Scenario
  step: Step
  actor: string
  command: string
  exitCode: number
  stdout: string
  stderr: string
  sentAt: number
  startedAt: string
  canariesRetrieved: string[]
  correlated: { events: TelemetryEvent[]; method: CorrelationMethod }
  alerts: Alert[]
  rules: ReadonlyMap<string, CompiledRule>
}

// Decides a step's verdict and builds its result; shared by live runs and offline replay.
export function judgeStep(o: StepOutcome): { result: StepResult; findings: string[] } {
  const { step, scenario } = o
  const v = decideVerdict({
    step,
    exitCode: o.exitCode,
    stderr: o.stderr,
    sentAt: o.sentAt,
    events: o.correlated.events,
    alerts: o.alerts,
    rules: o.rules,
    networkPolicies: scenario.setup.networkPolicies.map((np) => `${np.namespace}/${np.name}`),
  })
  const silent = step.expect.silent
  const result: StepResult = {
    scenario: scenario.metadata.id,
    step: step.id,
    title: step.title,
    kind: step.kind,
    actor: o.actor,
    command: o.command,
    verdict: v.verdict,
    passed: v.passed,
    rules: v.rules,
    expectedRules:
      step.kind === 'attack' ? step.expect.alerts : silent === 'all' || !silent ? ['all'] : silent,
    ...(v.latencyMs !== undefined ? { latencyMs: v.latencyMs } : {}),
    ...(v.telemetryLatencyMs !== undefined ? { telemetryLatencyMs: v.telemetryLatencyMs } : {}),
    budgetMs: parseDuration(step.expect.within),
    correlation: o.correlated.method,
    evidence: toEvidence(o.correlated.events),
    alerts: o.alerts.map(({ evidence: _e, ...a }) => a),
    ...(v.explanation ? { explanation: v.explanation } : {}),
    ...(v.nearMiss ? { nearMiss: v.nearMiss } : {}),
    exitCode: o.exitCode,
    output: tail(`${o.stdout}\n${o.stderr}`),
    canariesRetrieved: o.canariesRetrieved,
    startedAt: o.startedAt,
    techniques: scenario.metadata.techniques,
    ...(step.mitigations ? { mitigations: step.mitigations } : {}),
  }
  return { result, findings: v.findings.map((f) => `${scenario.metadata.id}/${f}`) }
}

function tail(s: string, lines = 8): string {
  return s.trim().split('\n').slice(-lines).join('\n').slice(-1500)
}
