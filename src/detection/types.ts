import type { SourceName, TelemetryEvent } from '../telemetry/event.js'

export type RuleLanguage = 'sigma' | 'spl' | 'falco'

/** Why a rule did not match an event: the clause that came closest and the field that differed. */
export interface NearMiss {
  rule: string
  /** Fraction of the rule's field tests that passed (0..1); higher is nearer. */
  score: number
  field: string
  expected: string
  actual: unknown
}

/**
 * A field test that a raw line can prove true without being parsed: it passes whenever the field's value
 * is a string `s` for which `test(lower ? s.toLowerCase() : s)` holds (or an array holding such a
 * string), `s` as JSON.parse gives it: the rule's own matching, case folding included.
 */
export interface FieldVeto {
  readonly field: string
  readonly lower: boolean
  readonly test: (value: string) => boolean
}

/** A rule compiled once into a fast predicate over normalized events. */
export interface CompiledRule {
  readonly id: string
  readonly title: string
  readonly file: string
  readonly language: RuleLanguage
  readonly level?: string
  /** ATT&CK tags as written in the rule, e.g. `attack.t1552.007`, `attack.credential-access`. */
  readonly tags: readonly string[]
  /** Sources the rule applies to (from Sigma logsource or SPL sourcetype); undefined = any. */
  readonly sources?: readonly SourceName[]
  /**
   * Lower-case literals of which at least one must appear in an event's raw text for the rule to be
   * able to match; undefined means the rule cannot be prefiltered (every line must be parsed).
   */
  readonly prefilter?: readonly string[]
  /**
   * Every literal list the rule requires, one per AND-ed part: when the rule matches, each list has a
   * literal in the raw line (`prefilter` is the one list guessed most selective).
   */
  readonly prefilterChoices?: readonly (readonly string[])[]
  /** Field tests any one of which, when it passes, means the rule cannot match (its `not` parts). */
  readonly vetoes?: readonly FieldVeto[]
  /**
   * True when the rule only feeds correlation rules (Sigma `generate: false`, the default): evaluate it
   * and pass its matches to `CorrelationRule.onMatch`, but raise no alert of its own.
   */
  readonly correlationOnly?: boolean
  match(event: TelemetryEvent): boolean
  /**
   * SPL pipelines (commands after the first search): `match` selects the events, and this turns the
   * window of matching events into result rows, each of which is one alert tied to its events.
   */
  aggregate?(events: readonly TelemetryEvent[]): ResultRow[]
  /** Best-effort explanation of a non-match (for LOGGED_NOT_ALERTED verdicts). */
  nearMiss?(event: TelemetryEvent): NearMiss | undefined
  /** The alert text for a matching event (Falco's rendered `output`), when the language has one. */
  describe?(event: TelemetryEvent): string
}

/** One row of an SPL pipeline's result: its fields and the events that formed it (time order). */
export interface ResultRow {
  fields: Record<string, unknown>
  events: readonly TelemetryEvent[]
}

/** A stateful rule (Sigma correlation): sees every event in time order and may emit alerts. */
export interface CorrelationRule {
  readonly id: string
  readonly title: string
  readonly file: string
  readonly language: 'sigma'
  readonly level?: string
  readonly tags: readonly string[]
  /** Ids of the base rules whose matches this correlation consumes. */
  readonly ruleRefs: readonly string[]
  /** Called for each base-rule match, in event-time order; returns true when the correlation fires. */
  onMatch(baseRuleId: string, event: TelemetryEvent): boolean
}

export interface RuleSet {
  readonly rules: readonly CompiledRule[]
  readonly correlations: readonly CorrelationRule[]
}

/** One alert: a rule fired on an event. */
export interface Alert {
  rule: string
  title: string
  level?: string
  tags: readonly string[]
  /** The rule's rendered output for this event (Falco rules), e.g. `Attach/Exec to pod (user=…)`. */
  message?: string
  /** Events file and 0-based line the triggering event came from (offline evaluation). */
  file?: string
  event?: number
  auditID?: string
  /** Event time of the triggering event (ISO). */
  time: string
  /** When the alert was raised (ISO): evaluation time live, or the event time offline. */
  alertTime: string
  /** Which pipeline raised it: `builtin` for the harness's engines, or an external name (falco, splunk). */
  pipeline: string
  /** A pipeline row's fields (SPL rules with commands such as stats). */
  fields?: Record<string, unknown>
  /** Audit IDs of every event that formed a pipeline row (the last one is `auditID`). */
  auditIDs?: string[]
  /** Every event that formed a pipeline row, in memory, so correlation ties the alert to each step. */
  contributors?: readonly TelemetryEvent[]
  /** The triggering event, kept in memory for correlation and evidence (never written unredacted). */
  evidence?: TelemetryEvent
  /**
   * How an external alert was tied to a step: `audit-id` (it named the audit event) or `window` (its
   * time and rule only). Unset for built-in alerts, which are raised on the event itself.
   */
  correlation?: 'audit-id' | 'window'
}
