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

/**
 * `Date.parse` of the common shape `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (years 1970-9999, days 1-28,
 * a fraction of up to nine digits, truncated to milliseconds), computed from the digits (Date.parse was 2% of `evaluate`);
 * undefined for any other string, which then goes to Date.parse. Tested against Date.parse.
 */
export function utcMillis(s: string): number | undefined {
  const n = s.length
  if (n < 20 || s.charCodeAt(n - 1) !== 0x5a) return undefined
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(10) !== 0x54) return undefined
  if (s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return undefined
  const year = digits(s, 0, 4)
  const month = digits(s, 5, 2)
  const day = digits(s, 8, 2)
  const hour = digits(s, 11, 2)
  const minute = digits(s, 14, 2)
  const second = digits(s, 17, 2)
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 28) return undefined
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined
  let ms = 0
  if (n > 20) {
    // A fraction: '.' and one to nine digits up to the 'Z' (V8 reads longer ones oddly: '.0777777777' is 777 ms).
    if (s.charCodeAt(19) !== 0x2e || n === 21 || n > 30) return undefined
    if (digits(s, 20, n - 21) < 0) return undefined
    ms = digits(s, 20, Math.min(3, n - 21)) * 10 ** (3 - Math.min(3, n - 21))
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms)
}

/** The decimal number in s[at, at+len), or -1 when any of those characters is not a digit. */
function digits(s: string, at: number, len: number): number {
  let value = 0
  for (let i = at; i < at + len; i++) {
    const d = s.charCodeAt(i) - 0x30
    if (d < 0 || d > 9) return -1
    value = value * 10 + d
  }
  return value
}

// Parses an RFC 3339 time (any fraction length) or throws naming the field.
export function isoTime(
  value: unknown,
  field: string,
  source: SourceName,
  ctx: NormalizeContext | undefined,
): { time: string; timeMs: number } {
  const timeMs = typeof value === 'string' ? (utcMillis(value) ?? Date.parse(value)) : Number.NaN
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
