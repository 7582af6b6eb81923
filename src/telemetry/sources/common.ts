import { PurpleError } from '../../errors.js'
import { DEFAULT_INDEX, SOURCETYPES, type SourceName, type TelemetryEvent } from '../event.js'

/** Options every normalizer accepts: the Splunk index to stamp and where the record was read from. */
export interface NormalizeContext {
  index?: string
  /** File and 1-based line the record came from; named in errors and kept on the event. */
  origin?: { file: string; line: number }
  /** Container name for container-log records that do not carry one (Docker json-file lines). */
  container?: string
}

/** Fields a source normalizer computes; everything else on the event is envelope or raw. */
export interface Normalized {
  time: string
  timeMs: number
  raw: Record<string, unknown>
  derived: Record<string, unknown>
  auditID?: string
}

// `file:line` when known, so every bad-input message points at the offending line.
export function where(ctx: NormalizeContext | undefined): string {
  return ctx?.origin ? `${ctx.origin.file}:${ctx.origin.line}` : '<record>'
}

export function invalid(source: SourceName, ctx: NormalizeContext | undefined, message: string): PurpleError {
  return new PurpleError('PURPLE_EVENTS_INVALID', `${where(ctx)}: not a valid ${source} record: ${message}`, {
    hint: `check that the file holds ${source} telemetry, or pass the right --source`,
  })
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function optionalString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key]
  return typeof value === 'string' ? value : undefined
}

// Parses an RFC 3339 time (any fraction length) or throws naming the field.
export function isoTime(
  value: unknown,
  field: string,
  source: SourceName,
  ctx: NormalizeContext | undefined,
): { time: string; timeMs: number } {
  const timeMs = typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (Number.isNaN(timeMs)) {
    throw invalid(source, ctx, `field '${field}' must be an RFC 3339 time, got ${JSON.stringify(value)}`)
  }
  return { time: value as string, timeMs }
}

export function toEvent(
  source: SourceName,
  n: Normalized,
  ctx: NormalizeContext | undefined,
): TelemetryEvent {
  // Optional fields assigned after (not spread in): this runs once per event read.
  const event: { -readonly [K in keyof TelemetryEvent]: TelemetryEvent[K] } = {
    source,
    sourcetype: SOURCETYPES[source],
    index: ctx?.index ?? DEFAULT_INDEX,
    time: n.time,
    timeMs: n.timeMs,
    raw: n.raw,
    derived: n.derived,
  }
  if (n.auditID !== undefined) event.auditID = n.auditID
  if (ctx?.origin) event.origin = { file: ctx.origin.file, line: ctx.origin.line }
  return event
}
