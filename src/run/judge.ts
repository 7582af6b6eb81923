import type { Alert, CompiledRule } from '../detection/types.js'
import type { Scenario } from '../scenario/load.js'
import type { Step } from '../scenario/schema.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import { toEvidence } from './evidence.js'
import type { CorrelationMethod, Finding, StepResult } from './result.js'
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
  /** When the action returned (ms); gives the step's duration. */
  endedAt?: number
  startedAt: string
  canariesRetrieved: string[]
  correlated: { events: TelemetryEvent[]; method: CorrelationMethod }
  alerts: Alert[]
  rules: ReadonlyMap<string, CompiledRule>
}

// Decides a step's verdict and builds its result; shared by live runs and offline replay.
export function judgeStep(o: StepOutcome): { result: StepResult; findings: Finding[] } {
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
    expectedRules: expectedRules(step),
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
    ...(o.endedAt !== undefined ? { durationMs: Math.max(0, o.endedAt - o.sentAt) } : {}),
    techniques: stepTechniques(scenario, step),
    ...(step.mitigations ? { mitigations: step.mitigations } : {}),
  }
  return { result, findings: v.findings.map((f) => ({ ...f, step: `${scenario.metadata.id}/${step.id}` })) }
}

/** Rules the step expects to fire (attack) or to stay silent (benign; `all` by default). */
function expectedRules(step: Step): string[] {
  const silent = step.expect.silent
  return step.kind === 'attack' ? step.expect.alerts : silent === 'all' || !silent ? ['all'] : silent
}

/** A step's own techniques when it names them, else its scenario's. */
export function stepTechniques(scenario: Scenario, step: Step): string[] {
  return step.techniques ?? scenario.metadata.techniques
}

/**
 * A step that did not run: SKIPPED (the lab cannot run it: reported, not a gap) or NOT_RECORDED (a replay
 * whose recording has no trace of it: a gap, so a new scenario never passes silently).
 */
export function unrunStep(
  scenario: Scenario,
  step: Step,
  verdict: 'SKIPPED' | 'NOT_RECORDED',
  why: string,
  startedAt: string,
): StepResult {
  return {
    scenario: scenario.metadata.id,
    step: step.id,
    title: step.title,
    kind: step.kind,
    actor: '—',
    command: step.run.join(' '),
    verdict,
    passed: verdict === 'SKIPPED',
    rules: [],
    expectedRules: expectedRules(step),
    correlation: 'none',
    evidence: [],
    alerts: [],
    explanation: why,
    canariesRetrieved: [],
    startedAt,
    techniques: stepTechniques(scenario, step),
    ...(step.mitigations ? { mitigations: step.mitigations } : {}),
  }
}

function tail(s: string, lines = 8): string {
  return s.trim().split('\n').slice(-lines).join('\n').slice(-1500)
}
