// Sigma correlation rules (spec v2): event_count, value_count, temporal, temporal_ordered.
// Each instance keeps per-group sliding windows over event time; when a group's condition holds the
// correlation fires and that group's window is cleared, so the next alert needs a fresh set of events.
import { getField, type TelemetryEvent } from '../../telemetry/event.js'
import { type Issues, isRecord } from './issues.js'
import { parseTimespan } from './timespan.js'

export const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered'] as const
export type CorrelationType = (typeof CORRELATION_TYPES)[number]

const OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const
type Op = (typeof OPS)[number]
interface Bound {
  op: Op
  value: number
}

export interface CorrelationSpec {
  type: CorrelationType
  /** References as written (rule ids or names). */
  rules: string[]
  groupBy: string[]
  timespanMs: number
  bounds: Bound[]
  /** value_count: the field whose distinct values are counted. */
  field?: string
  /** alias → (rule name or id → field name in that rule's events). */
  aliases: Record<string, Record<string, string>>
  /** Spec `generate`: also alert on the referenced rules on their own (default false). */
  generate: boolean
}

/** A resolved member of a correlation: a base rule, or a nested correlation (chaining). */
export type Member =
  | { kind: 'rule'; ref: string; id: string; name?: string }
  | { kind: 'correlation'; ref: string; id: string; name?: string; spec: CorrelationSpec; members: Member[] }

export function parseCorrelationSpec(
  doc: Record<string, unknown>,
  issues: Issues,
): CorrelationSpec | undefined {
  const body = doc.correlation
  if (!isRecord(body)) {
    issues.add('correlation', 'correlation must be a map')
    return undefined
  }
  const before = issues.list.length
  const type = body.type as CorrelationType
  if (!CORRELATION_TYPES.includes(type)) {
    issues.add(
      'correlation.type',
      `unknown correlation type ${JSON.stringify(body.type)} (expected ${CORRELATION_TYPES.join(', ')})`,
    )
  }
  const rules = stringList(body.rules, 'correlation.rules', issues, true)
  const groupBy =
    body['group-by'] === undefined ? [] : stringList(body['group-by'], 'correlation.group-by', issues, false)
  const timespanMs = parseTimespan(body.timespan)
  if (timespanMs === undefined) {
    issues.add(
      'correlation.timespan',
      `bad timespan ${JSON.stringify(body.timespan)} (expected e.g. 30s, 5m, 1h, 2d)`,
    )
  }
  const { bounds, field } = parseBounds(body.condition, type, rules.length, issues)
  const aliases = parseAliases(body.aliases, issues)
  const generate = body.generate ?? doc.generate ?? false
  if (typeof generate !== 'boolean') issues.add('generate', 'generate must be true or false')
  if (issues.list.length > before) return undefined
  return {
    type,
    rules,
    groupBy,
    timespanMs: timespanMs!,
    bounds,
    ...(field === undefined ? {} : { field }),
    aliases,
    generate: generate === true,
  }
}

function stringList(v: unknown, path: string, issues: Issues, required: boolean): string[] {
  const list = typeof v === 'string' ? [v] : v
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) {
    issues.add(path, 'must be a list of strings')
    return []
  }
  if (required && list.length === 0) issues.add(path, 'must not be empty')
  return list as string[]
}

function parseBounds(
  cond: unknown,
  type: CorrelationType,
  ruleCount: number,
  issues: Issues,
): { bounds: Bound[]; field?: string } {
  const temporal = type === 'temporal' || type === 'temporal_ordered'
  if (cond === undefined && temporal) return { bounds: [{ op: 'gte', value: ruleCount }] }
  if (!isRecord(cond)) {
    issues.add('correlation.condition', 'condition must be a map such as {gte: 10}')
    return { bounds: [] }
  }
  const bounds: Bound[] = []
  let field: string | undefined
  for (const [key, value] of Object.entries(cond)) {
    if (key === 'field') {
      if (typeof value === 'string' && value !== '') field = value
      else issues.add('correlation.condition.field', 'must be a field name')
    } else if ((OPS as readonly string[]).includes(key)) {
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0)
        bounds.push({ op: key as Op, value })
      else issues.add(`correlation.condition.${key}`, 'must be a non-negative integer')
    } else
      issues.add(
        `correlation.condition.${key}`,
        `unknown condition key (expected ${OPS.join(', ')} or field)`,
      )
  }
  if (bounds.length === 0) issues.add('correlation.condition', `needs one of ${OPS.join(', ')}`)
  if (type === 'value_count' && field === undefined)
    issues.add('correlation.condition', "value_count needs 'field'")
  return field === undefined ? { bounds } : { bounds, field }
}

function parseAliases(v: unknown, issues: Issues): Record<string, Record<string, string>> {
  if (v === undefined) return {}
  const ok =
    isRecord(v) &&
    Object.values(v).every((m) => isRecord(m) && Object.values(m).every((f) => typeof f === 'string'))
  if (!ok) {
    issues.add('correlation.aliases', 'aliases must map alias → (rule name → field name)')
    return {}
  }
  return v as Record<string, Record<string, string>>
}

// --- runtime ---------------------------------------------------------------------------------------

/** The state machine behind one correlation instance: `onMatch(member, event)` → fired? */
type Matcher = (member: number, event: TelemetryEvent) => boolean

/** Creates a fresh instance (own state) that consumes base-rule matches and reports when it fires. */
export function createMatcher(
  spec: CorrelationSpec,
  members: readonly Member[],
): (id: string, e: TelemetryEvent) => boolean {
  const children = members.map((m) =>
    m.kind === 'correlation' ? createMatcher(m.spec, m.members) : undefined,
  )
  const keyFields = members.map((m) => spec.groupBy.map((g) => aliasField(spec, g, m)))
  const groups = new Map<string, Matcher>()
  const newGroup = GROUP_FACTORIES[spec.type]
  return (id, event) => {
    let fired = false
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!
      const child = children[i]
      const hit = child ? child(id, event) : m.id === id
      if (!hit) continue
      const key = groupKey(event, keyFields[i]!)
      let group = groups.get(key)
      if (!group) {
        group = newGroup(spec, members.length)
        groups.set(key, group)
      }
      if (group(i, event)) fired = true
    }
    return fired
  }
}

function aliasField(spec: CorrelationSpec, groupField: string, m: Member): string {
  const alias = spec.aliases[groupField]
  if (!alias) return groupField
  return alias[m.ref] ?? (m.name === undefined ? undefined : alias[m.name]) ?? alias[m.id] ?? groupField
}

function groupKey(event: TelemetryEvent, fields: readonly string[]): string {
  if (fields.length === 0) return ''
  return fields.map((f) => valueKey(getField(event, f))).join('\u0001')
}

function valueKey(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function holds(bounds: readonly Bound[], n: number): boolean {
  return bounds.every(({ op, value }) => COMPARE[op](n, value))
}

const COMPARE: Record<Op, (n: number, bound: number) => boolean> = {
  gt: (n, b) => n > b,
  gte: (n, b) => n >= b,
  lt: (n, b) => n < b,
  lte: (n, b) => n <= b,
  eq: (n, b) => n === b,
  neq: (n, b) => n !== b,
}

const GROUP_FACTORIES: Record<CorrelationType, (spec: CorrelationSpec, members: number) => Matcher> = {
  event_count: (spec) => {
    const window = new TimeWindow<null>(spec.timespanMs)
    return (_i, event) => {
      window.push(event.timeMs, null)
      if (!holds(spec.bounds, window.size)) return false
      window.clear()
      return true
    }
  },
  value_count: (spec) => {
    const window = new TimeWindow<string>(spec.timespanMs)
    return (_i, event) => {
      const v = getField(event, spec.field!)
      if (v === undefined || v === null) window.evict(event.timeMs)
      else window.push(event.timeMs, valueKey(v))
      if (!holds(spec.bounds, window.distinct)) return false
      window.clear()
      return true
    }
  },
  temporal: (spec, members) => {
    const last = new Array<number>(members).fill(Number.NEGATIVE_INFINITY)
    return (i, event) => {
      const t = event.timeMs
      last[i] = t
      const seen = last.filter((at) => t - at <= spec.timespanMs).length
      if (!holds(spec.bounds, seen)) return false
      last.fill(Number.NEGATIVE_INFINITY)
      return true
    }
  },
  temporal_ordered: (spec, members) => {
    // chainStart[i]: start time of the latest chain that has seen members 0..i in order.
    const chainStart = new Array<number>(members).fill(Number.NaN)
    return (i, event) => {
      const t = event.timeMs
      if (i === 0) chainStart[0] = t
      else {
        const prev = chainStart[i - 1]!
        if (Number.isNaN(prev) || t - prev > spec.timespanMs) return false
        chainStart[i] = Number.isNaN(chainStart[i]!) ? prev : Math.max(chainStart[i]!, prev)
      }
      if (i !== members - 1 || t - chainStart[i]! > spec.timespanMs) return false
      chainStart.fill(Number.NaN)
      return true
    }
  },
}

/** Values with timestamps inside a sliding window [newest - span, newest], with distinct-value counts. */
class TimeWindow<T> {
  private times: number[] = []
  private values: T[] = []
  private head = 0
  private readonly counts = new Map<T, number>()
  constructor(private readonly span: number) {}

  get size(): number {
    return this.times.length - this.head
  }

  get distinct(): number {
    return this.counts.size
  }

  push(t: number, v: T): void {
    this.evict(t)
    this.times.push(t)
    this.values.push(v)
    this.counts.set(v, (this.counts.get(v) ?? 0) + 1)
  }

  evict(now: number): void {
    while (this.head < this.times.length && now - this.times[this.head]! > this.span) {
      const v = this.values[this.head]!
      const n = this.counts.get(v)! - 1
      if (n === 0) this.counts.delete(v)
      else this.counts.set(v, n)
      this.head++
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head)
      this.values = this.values.slice(this.head)
      this.head = 0
    }
  }

  clear(): void {
    this.times = []
    this.values = []
    this.head = 0
    this.counts.clear()
  }
}
