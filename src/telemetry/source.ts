// What one telemetry source is, in one place: how its records become events, how a file of it is
// recognised, which step an event belongs to, how it reads as evidence, and which Sigma logsource
// means it. The registry (registry.ts) refuses a descriptor without an attribution rule, so a new
// source can never be silently unattributable.
import { PurpleError } from '../errors.js'
import type { SourceName, TelemetryEvent } from './event.js'
import type { NormalizeContext } from './sources/common.js'

/** What attribution needs to know about an action (a subset of ActionRecord, also stored in recordings). */
export interface ActionTrace {
  tool: string
  identity: string
  sentAt: number
  endedAt: number
  auditIDs: string[]
  marker?: string
  /**
   * Objects the command names: Docker object names for `docker`, `namespace/pod` (or `pod`) for a
   * `kubectl exec|logs|attach|cp|port-forward` — to tie container and daemon records to the step.
   */
  targets?: string[]
  /** Cloud credential ids the step used (an AWS access key id, an Azure client id): decoy records name them. */
  credentials?: string[]
}

export interface AttributionContext {
  /** Audit IDs of the harness's own requests, which never count for a step. */
  ignoreAuditIDs: ReadonlySet<string>
}

/** A Sigma logsource (lower-cased) a source answers to. */
export interface LogsourceMatch {
  product: string
  service?: readonly string[]
  category?: readonly string[]
}

export interface SourceDescriptor {
  readonly name: SourceName
  /** One record → its events; throws PURPLE_EVENTS_INVALID naming file:line. */
  normalize(record: Record<string, unknown>, ctx?: NormalizeContext): TelemetryEvent[]
  /** A non-JSON line format the source also has (dockerd's logfmt), parsed to a record. */
  parseText?(line: string): Record<string, unknown> | undefined
  /** Whether a parsed record looks like this source (`--source auto`); tried in registry order. */
  sniff(record: Record<string, unknown>): boolean
  /**
   * Whether an event in an action's time window was caused by that action. Required: a source whose
   * events cannot be tied to steps would only ever show as "not logged".
   */
  attribute(event: TelemetryEvent, action: ActionTrace, ctx: AttributionContext): boolean
  /** A one-line, human-readable summary (the report redacts it again on the way out). */
  excerpt(event: TelemetryEvent): string
  /** The Sigma logsources that mean this source. */
  readonly logsources: readonly LogsourceMatch[]
}

/** Checks a descriptor is complete; throws naming what is missing (a programming error, caught by tests). */
export function defineSource(d: SourceDescriptor): SourceDescriptor {
  const missing = (['normalize', 'sniff', 'attribute', 'excerpt'] as const).filter(
    (k) => typeof d[k] !== 'function',
  )
  if (missing.length || !d.logsources?.length)
    throw new PurpleError(
      'PURPLE_INTERNAL',
      `telemetry source ${String(d.name)} cannot be registered: it lacks ${[...missing, ...(d.logsources?.length ? [] : ['logsources'])].join(', ')}`,
    )
  return d
}

export const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v))
