import type { Alert, NearMiss } from '../detection/types.js'
import type { SourceName } from '../telemetry/event.js'

/** Ordered from best to worst for an attack step; benign steps use PASSED_BENIGN / FALSE_POSITIVE. */
export const VERDICTS = [
  'DETECTED',
  'DETECTED_LATE',
  'BLOCKED',
  'LOGGED_NOT_ALERTED',
  'NOT_LOGGED',
  'ACTION_FAILED',
  'PASSED_BENIGN',
  'FALSE_POSITIVE',
] as const
export type Verdict = (typeof VERDICTS)[number]

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
  techniques: string[]
  /** ATT&CK mitigation ids this step exercises (e.g. a least-privilege variant). */
  mitigations?: string[]
}

export interface RunSummary {
  attackSteps: number
  detected: number
  missed: number
  blocked: number
  falsePositives: number
  benignSteps: number
}

export interface RunResult {
  runId: string
  startedAt: string
  finishedAt: string
  lab: string
  provider: string
  scenarios: { id: string; title: string; techniques: string[]; tactic: string; file: string }[]
  steps: StepResult[]
  summary: RunSummary
  /** Facts about the environment: versions, audit policy hash, rule digests, harness version. */
  manifest: Record<string, string>
  /** Findings the run made about the detection content itself (e.g. an analytic that cannot fire). */
  findings: string[]
  /** Telemetry sources that were collected, with event counts. */
  telemetry: Partial<Record<SourceName, number>>
  rules: { id: string; title: string; file: string; language: string }[]
}
