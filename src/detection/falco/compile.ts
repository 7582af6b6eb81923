// Resolved Falco rules → CompiledRules: each condition becomes a closure tree over field extractors, and
// the output becomes the alert message. Every operator runs in time linear (glob: O(n·m)) in its inputs;
// nothing builds a RegExp from rule or event text.
import type { TelemetryEvent } from '../../telemetry/event.js'
import type { CompiledRule, NearMiss } from '../types.js'
import type { FieldRef, Operator } from './condition.js'
import { FIELDS, type FieldValue } from './fields.js'
import { type FalcoRuleDef, OUTPUT_FIELD, type Resolved } from './ruleset.js'

type Predicate = (event: TelemetryEvent) => boolean
type Extractor = (event: TelemetryEvent) => FieldValue

/** Falco priority → the Sigma-style level the reports use. */
const LEVELS: Record<string, string> = {
  emergency: 'critical',
  alert: 'critical',
  critical: 'critical',
  error: 'high',
  warning: 'medium',
  notice: 'low',
  informational: 'informational',
  info: 'informational',
  debug: 'informational',
}

export function compileFalcoRule(def: FalcoRuleDef): CompiledRule {
  const match = compileExpr(def.condition)
  const render = compileOutput(def.output)
  return {
    id: def.name,
    title: def.name,
    file: def.file,
    language: 'falco',
    level: LEVELS[def.priority.toLowerCase()] ?? 'medium',
    tags: def.tags,
    sources: ['k8s-audit'],
    // Disabled rules are loaded (and checked) but never match, as in Falco.
    match: def.enabled ? match : () => false,
    describe: render,
    nearMiss: (event) => (match(event) ? undefined : nearMiss(def, event)),
  }
}

/**
 * One shared extractor per distinct field reference: rules run one after another on the same event, so
 * each field is extracted once per event however many rules and macros test it.
 */
export function extractor(field: FieldRef): Extractor {
  const key = `${field.transformers.join('(')}|${field.name}[${field.arg ?? ''}]`
  const known = EXTRACTORS.get(key)
  if (known) return known
  const spec = FIELDS.get(field.name)
  if (!spec) throw new Error(`unsupported field ${field.name}`)
  const arg = field.arg
  const transforms = field.transformers.map(transformer)
  let seen = -1
  let value: FieldValue
  const extract: Extractor = (event) => {
    if (event !== current) {
      current = event
      generation++
    }
    if (seen === generation) return value
    let v = spec.extract(event.raw, arg, stageTimestamp(event))
    // An empty list is reported as not available (no value to compare).
    if (Array.isArray(v) && v.length === 0) v = undefined
    for (const t of transforms) v = v === undefined ? v : Array.isArray(v) ? v.map(t) : t(v as string)
    seen = generation
    value = v
    return v
  }
  EXTRACTORS.set(key, extract)
  return extract
}

const EXTRACTORS = new Map<string, Extractor>()
/** The event the cached field values belong to; a new event starts a new generation. */
let current: TelemetryEvent | undefined
let generation = 0

function stageTimestamp(event: TelemetryEvent): string {
  const s = event.raw.stageTimestamp
  return typeof s === 'string' ? s : event.time
}

function transformer(name: string): (s: string) => string {
  switch (name) {
    case 'tolower':
      return (s) => s.toLowerCase()
    case 'toupper':
      return (s) => s.toUpperCase()
    case 'basename':
      return (s) => s.slice(s.lastIndexOf('/') + 1)
    default:
      throw new Error(`unsupported transformer ${name}`)
  }
}

export function compileExpr(e: Resolved): Predicate {
  switch (e.kind) {
    case 'and': {
      const items = e.items.map(compileExpr)
      return (ev) => items.every((p) => p(ev))
    }
    case 'or': {
      const items = e.items.map(compileExpr)
      return (ev) => items.some((p) => p(ev))
    }
    case 'not': {
      const item = compileExpr(e.item)
      return (ev) => !item(ev)
    }
    case 'check': {
      const get = extractor(e.field)
      const test = compareValue(e.op, e.values)
      const isList = FIELDS.get(e.field.name)?.list === true
      return (ev) => {
        const v = get(ev)
        if (v === undefined) return false
        if (e.op === 'exists') return true
        if (typeof v === 'string') return test(v)
        // List fields: `in` needs every value in the set, anything else any value.
        return e.op === 'in' && isList ? v.every(test) : v.some(test)
      }
    }
  }
}

/** One value against the right-hand side (for list operators: membership in the set). */
export function compareValue(op: Operator, rhs: readonly string[]): (v: string) => boolean {
  const first = rhs[0] ?? ''
  switch (op) {
    case 'exists':
      return () => true
    case '=':
    case '==':
      return (v) => v === first
    case '!=':
      return (v) => v !== first
    case 'contains':
      return (v) => v.includes(first)
    case 'icontains': {
      const lower = first.toLowerCase()
      return (v) => v.toLowerCase().includes(lower)
    }
    case 'startswith':
      return (v) => v.startsWith(first)
    case 'endswith':
      return (v) => v.endsWith(first)
    case 'in':
    case 'intersects': {
      const set = new Set(rhs)
      return (v) => set.has(v)
    }
    case 'pmatch':
      return (v) => rhs.some((p) => pathPrefix(p, v))
    case 'glob':
      return (v) => glob(first, v, false)
    case 'iglob':
      return (v) => glob(first, v, true)
    case '<':
    case '<=':
    case '>':
    case '>=': {
      return (v) => {
        const c = compareOrdered(v, first)
        return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0
      }
    }
    default:
      throw new Error(`unsupported operator ${op}`)
  }
}

/** Numbers compare as numbers, anything else as strings. */
function compareOrdered(a: string, b: string): number {
  const x = Number(a)
  const y = Number(b)
  if (a.trim() !== '' && b.trim() !== '' && !Number.isNaN(x) && !Number.isNaN(y)) return x - y
  return a < b ? -1 : a > b ? 1 : 0
}

/** `pmatch`: the path is the prefix itself or lies under it (component boundary). */
function pathPrefix(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  if (path === p) return true
  return path.startsWith(p === '/' ? '/' : `${p}/`)
}

/**
 * fnmatch-style glob (`*`, `?`, `[set]`, `[!set]`, `\x`): the classic single-star-restart scan, O(n·m)
 * worst case, no recursion and no RegExp.
 */
export function glob(pattern: string, text: string, fold: boolean): boolean {
  const pat = fold ? pattern.toLowerCase() : pattern
  const s = fold ? text.toLowerCase() : text
  let p = 0
  let i = 0
  let starP = -1
  let starI = 0
  while (i < s.length) {
    const step = p < pat.length ? matchOne(pat, p, s[i]!) : -1
    if (p < pat.length && pat[p] === '*') {
      starP = p++
      starI = i
    } else if (step > 0) {
      p += step
      i++
    } else if (starP !== -1) {
      p = starP + 1
      i = ++starI
    } else return false
  }
  while (pat[p] === '*') p++
  return p === pat.length
}

/** Length of the pattern item at `p` when it matches `c`, 0 when it does not (`*` is handled by glob). */
function matchOne(pat: string, p: number, c: string): number {
  const t = pat[p]!
  if (t === '?') return 1
  if (t === '\\' && p + 1 < pat.length) return pat[p + 1] === c ? 2 : 0
  if (t === '[') {
    const close = pat.indexOf(']', p + 2)
    if (close === -1) return t === c ? 1 : 0
    let q = p + 1
    const negate = pat[q] === '!' || pat[q] === '^'
    if (negate) q++
    let hit = false
    for (; q < close; q++) {
      if (pat[q + 1] === '-' && q + 2 < close) {
        if (c >= pat[q]! && c <= pat[q + 2]!) hit = true
        q += 2
      } else if (pat[q] === c) hit = true
    }
    return hit !== negate ? close - p + 1 : 0
  }
  return t === c ? 1 : 0
}

/** `%field` substitutions; values not available render as `<NA>` and lists as `(a,b)`, as Falco does. */
export function compileOutput(output: string): (event: TelemetryEvent) => string {
  const parts: (string | Extractor)[] = []
  let last = 0
  for (const m of output.matchAll(OUTPUT_FIELD)) {
    parts.push(output.slice(last, m.index))
    const name = m[1] ?? m[3]!
    const arg = m[2] ?? m[4]
    parts.push(extractor({ name, ...(arg !== undefined ? { arg } : {}), transformers: [] }))
    last = m.index + m[0].length
  }
  parts.push(output.slice(last))
  return (event) =>
    parts
      .map((part) => {
        if (typeof part === 'string') return part
        const v = part(event)
        return v === undefined ? '<NA>' : typeof v === 'string' ? v : `(${v.join(',')})`
      })
      .join('')
      .replace(/\s+/g, ' ')
      .trim()
}

/** The first failing test of the rule's top-level conjunction, with how much of it passed. */
function nearMiss(def: FalcoRuleDef, event: TelemetryEvent): NearMiss | undefined {
  const conjuncts = flattenAnd(def.condition)
  let passed = 0
  let miss: Resolved | undefined
  for (const c of conjuncts) {
    if (compileExpr(c)(event)) passed++
    else miss ??= c
  }
  if (!miss) return undefined
  const leaf = firstCheck(miss)
  return {
    rule: def.name,
    score: passed / conjuncts.length,
    field: leaf?.field.name ?? '(condition)',
    expected: describe(miss),
    actual: leaf ? extractor(leaf.field)(event) : undefined,
  }
}

function flattenAnd(e: Resolved): Resolved[] {
  return e.kind === 'and' ? e.items.flatMap(flattenAnd) : [e]
}

function firstCheck(e: Resolved): Extract<Resolved, { kind: 'check' }> | undefined {
  if (e.kind === 'check') return e
  if (e.kind === 'not') return firstCheck(e.item)
  for (const item of e.items) {
    const c = firstCheck(item)
    if (c) return c
  }
  return undefined
}

/** A resolved condition as text (for messages). */
export function describe(e: Resolved): string {
  switch (e.kind) {
    case 'check': {
      const f = e.field.transformers.reduce(
        (s, t) => `${t}(${s})`,
        `${e.field.name}${e.field.arg !== undefined ? `[${e.field.arg}]` : ''}`,
      )
      if (e.op === 'exists') return `${f} exists`
      if (e.op === 'in' || e.op === 'intersects' || e.op === 'pmatch')
        return `${f} ${e.op} (${e.values.join(', ')})`
      return `${f} ${e.op} ${e.values[0] ?? ''}`
    }
    case 'not':
      return `not ${describe(e.item)}`
    case 'and':
    case 'or':
      return e.items.length
        ? `(${e.items.map(describe).join(` ${e.kind} `)})`
        : e.kind === 'and'
          ? 'true'
          : 'false'
  }
}
