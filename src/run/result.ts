import type { Alert, NearMiss } from '../detection/types.js'
import type { ProviderName } from '../lab/provider.js'
import type { SourceName } from '../telemetry/event.js'
import type { Selection } from './select.js'

/**
 * Ordered from best to worst for an attack step; benign steps use PASSED_BENIGN / NOISY / FALSE_POSITIVE.
 * SKIPPED (the lab cannot run the step), NOT_RECORDED (a replayed recording has no trace of it) and NOT_RUN
 * (the lab failed mid-run before the step's turn) apply to both kinds: a skip is reported but is not a gap,
 * a step missing from a recording or cut off by a lab fault is.
 */
export const VERDICTS = [
  'DETECTED',
  'DETECTED_LATE',
  'BLOCKED',
  'LOGGED_NOT_ALERTED',
  'NOT_LOGGED',
  'ACTION_FAILED',
  'NOT_RECORDED',
  'NOT_RUN',
  'SKIPPED',
  'PASSED_BENIGN',
  'NOISY',
  'FALSE_POSITIVE',
] as const
export type Verdict = (typeof VERDICTS)[number]

/** Whether the step's action was judged at all (skipped, unrecorded and not-run steps fired nothing). */
export function wasJudged(verdict: Verdict): boolean {
  return verdict !== 'SKIPPED' && verdict !== 'NOT_RECORDED' && verdict !== 'NOT_RUN'
}

/** How the step's action was tied to its telemetry. */
export type CorrelationMethod = 'audit-id' | 'marker' | 'window' | 'none'

export interface StepEvidence {
  source: SourceName
  time: string
  /** A short, redacted, human-readable excerpt (verb, URI, user, status ...). */
  excerpt: string
  auditID?: string
}

export interface StepResult {
  scenario: string
  step: string
  title: string
  kind: 'attack' | 'benign'
  /** Human-readable identity the step acted as (user, groups, service account, docker client). */
  actor: string
  /** The command as run, redacted. */
  command: string
  verdict: Verdict
  /** True when the verdict meets the step's expectation (gaps make the run exit 1). */
  passed: boolean
  /** Rules that fired on this step's telemetry. */
  rules: string[]
  /** Rules the step expected to fire (attack) or to stay silent (benign). */
  expectedRules: string[]
  /** Action sent → first alert, in ms; undefined when nothing fired. */
  latencyMs?: number
  /** Action sent → first telemetry event, in ms. */
  telemetryLatencyMs?: number
  budgetMs?: number
  correlation: CorrelationMethod
  evidence: StepEvidence[]
  alerts: Alert[]
  /** Why the verdict is what it is (always set for misses, blocks and failures). */
  explanation?: string
  nearMiss?: NearMiss
  exitCode?: number
  /** Redacted stdout/stderr tail of the action. */
  output?: string
  /** Canary fingerprints the action retrieved (sha256 prefixes), proving retrieval without values. */
  canariesRetrieved: string[]
  startedAt: string
  /** How long the action ran, in ms (undefined for steps that did not run). */
  durationMs?: number
  techniques: string[]
  /** ATT&CK mitigation ids this step exercises (e.g. a least-privilege variant). */
  mitigations?: string[]
  /** With `--repeat N`: every attempt's verdict; the step passes only if every attempt did. */
  attempts?: Attempts
}

/** A step run N times: how often it met its expectation and (attack steps) how often it was detected. */
export interface Attempts {
  runs: number
  passed: number
  detected: number
  verdicts: Verdict[]
}

/** What a finding is about; one per kind of thing the run learned beyond the verdicts. */
export const FINDING_KINDS = [
  'noisy-rule',
  'known-gap',
  'known-gap-fired',
  'stale-recording',
  'decoy-unavailable',
  'unattributed-alerts',
  'pipeline-problem',
  'telemetry-loss',
  'flaky-detection',
  'lab-fault',
] as const
export type FindingKind = (typeof FINDING_KINDS)[number]

/** A fact about the detection content or the run, machine-readable: `step` is `scenario/step`. */
export interface Finding {
  kind: FindingKind
  step?: string
  rule?: string
  message: string
}

export interface RunSummary {
  /** Every selected step, run or not. */
  steps: number
  attackSteps: number
  detected: number
  /** Attack steps that ran and missed their expectation. */
  missed: number
  blocked: number
  falsePositives: number
  /** Benign steps on which a loaded rule fired without being asserted silent there. */
  noisy: number
  benignSteps: number
  skipped: number
  /** Steps a replayed recording has no trace of (gaps). */
  notRecorded: number
  /** Steps cut off by a lab fault mid-run (gaps). */
  notRun: number
}

/**
 * What ran a run's steps: a lab provider, `replay` (a recording re-asserted with no lab) or `none` (an empty
 * selection ran nothing). The report's `provider` field.
 */
export type RunOrigin = ProviderName | 'replay' | 'none'

export type TelemetryCounts = Partial<Record<SourceName, number>>

export interface RunResult {
  runId: string
  startedAt: string
  finishedAt: string
  lab: string
  /** A RunOrigin; a merged report (merge-reports) lists its runs' origins, comma-separated. */
  provider: string
  scenarios: { id: string; title: string; techniques: string[]; tactic: string; file: string }[]
  steps: StepResult[]
  summary: RunSummary
  /** Facts about the environment: versions, audit policy hash, rule digests, harness version. */
  manifest: Record<string, string>
  /** Findings the run made about the detection content itself (e.g. an analytic that cannot fire). */
  findings: Finding[]
  /** Telemetry sources that were collected, with event counts. */
  telemetry: TelemetryCounts
  rules: { id: string; title: string; file: string; language: string }[]
  /** Set when only some steps were selected (`--only`, `--technique`, `--tag`, `--shard`). */
  selection?: Selection
  /** `--repeat N`: how many times every step ran. */
  repeat?: number
}
