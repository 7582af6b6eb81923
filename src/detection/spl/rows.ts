// Result rows of an SPL pipeline: Splunk-named fields (JSON flattened with `{}` for arrays) plus the
// events that formed the row, so an alert raised on a row can be tied back to them.
import { getField, type TelemetryEvent } from '../../telemetry/event.js'

export type Scalar = string | number
/** A field value: one value, a multivalue (list), or null (absent). */
export type Value = Scalar | Scalar[] | null

export interface Row {
  readonly fields: Map<string, Value>
  /** The events the row came from (one for an event, the group's for a stats row). */
  readonly events: readonly TelemetryEvent[]
  /** Time (ms) of the row, for earliest/latest: its event's time, or the group's latest. */
  readonly timeMs: number
}

/** Deepest JSON nesting flattened into fields (deeper parts are skipped: bounded work per event). */
const MAX_FLATTEN_DEPTH = 32

/** A row for one event: envelope fields, the JSON flattened as Splunk's JSON extraction names it, aliases. */
export function eventRow(event: TelemetryEvent): Row {
  const fields = new Map<string, Value>()
  flatten(event.raw, '', fields, 0)
  for (const [k, v] of Object.entries(event.derived)) if (!fields.has(k)) fields.set(k, toValue(v))
  fields.set('_time', event.timeMs / 1000)
  fields.set('_raw', JSON.stringify(event.raw))
  fields.set('source', event.source)
  fields.set('sourcetype', event.sourcetype)
  fields.set('index', event.index)
  return { fields, events: [event], timeMs: event.timeMs }
}

function flatten(value: unknown, prefix: string, out: Map<string, Value>, depth: number): void {
  if (depth > MAX_FLATTEN_DEPTH) return
  if (Array.isArray(value)) {
    for (const item of value) flatten(item, `${prefix}{}`, out, depth + 1)
    return
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out, depth + 1)
    return
  }
  const scalar = toScalar(value)
  if (scalar === null || prefix === '') return
  const prev = out.get(prefix)
  if (prev === undefined || prev === null) out.set(prefix, scalar)
  else out.set(prefix, [...(Array.isArray(prev) ? prev : [prev]), scalar])
}

function toScalar(v: unknown): Scalar | null {
  if (typeof v === 'string' || typeof v === 'number') return v
  if (typeof v === 'boolean') return String(v)
  return null
}

/** Any JSON-ish value as a field value: objects are not values (Splunk flattens them away). */
export function toValue(v: unknown): Value {
  if (Array.isArray(v)) {
    const list = v.map(toScalar).filter((s): s is Scalar => s !== null)
    return list.length === 0 ? null : list.length === 1 ? (list[0] as Scalar) : list
  }
  return toScalar(v)
}

/** A field of a row by its name as written; `a{}.b` and `a.b` both resolve on the event as a path. */
export function lookup(row: Row, name: string): Value {
  const v = row.fields.get(name)
  if (v !== undefined) return v
  return null
}

/** Reads a field off an event for the first search stage: `{}` marks arrays, which paths already span. */
export function eventField(event: TelemetryEvent, name: string): unknown {
  if (name in event.derived) return event.derived[name]
  return getField(event, name.includes('{}') ? name.replaceAll('{}', '') : name)
}

export function values(v: Value): Scalar[] {
  return v === null ? [] : Array.isArray(v) ? v : [v]
}

/** A multivalue collapsed to one value when it has one element, null when it has none. */
export function fromList(list: Scalar[]): Value {
  return list.length === 0 ? null : list.length === 1 ? (list[0] as Scalar) : list
}

/** An event-shaped view of a row, so `search` stages after the first reuse the compiled matcher. */
export function rowAsEvent(row: Row): TelemetryEvent {
  const first = row.events[0]
  const derived = new Proxy({} as Record<string, unknown>, {
    has: () => true,
    get: (_, name) => (typeof name === 'string' ? (lookup(row, name) ?? undefined) : undefined),
  })
  return {
    source: first?.source ?? 'k8s-audit',
    sourcetype: String(lookup(row, 'sourcetype') ?? first?.sourcetype ?? ''),
    index: String(lookup(row, 'index') ?? first?.index ?? ''),
    time: new Date(row.timeMs).toISOString(),
    timeMs: row.timeMs,
    // Keywords search `_raw` as long as the row has it; a stats row has none, as in Splunk.
    raw: rawOf(row),
    derived,
  }
}

function rawOf(row: Row): Record<string, unknown> {
  const raw = lookup(row, '_raw')
  if (typeof raw === 'string') {
    try {
      const parsed = JSON.parse(raw) as unknown
      if (parsed !== null && typeof parsed === 'object') return parsed as Record<string, unknown>
    } catch {
      // not JSON: fall through to the fields
    }
  }
  return Object.fromEntries([...row.fields].filter(([, v]) => v !== null))
}

/** Splunk's string form of a value (numbers as written by JS). */
export function str(s: Scalar): string {
  return typeof s === 'number' ? String(s) : s
}

export function num(s: Scalar | null | undefined): number | undefined {
  if (s === null || s === undefined) return undefined
  if (typeof s === 'number') return s
  const t = s.trim()
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined
  return Number(t)
}
