import type { TelemetryEvent } from '../../telemetry/event.js'
import { starMatch } from '../glob.js'
import { cidrPredicate, parseCidr } from '../sigma/cidr.js'
import type { CompareOp, Pattern, SplNode } from './ast.js'
import { eventField } from './rows.js'

export type Predicate = (event: TelemetryEvent) => boolean

// Matches a lower-cased string against a compiled wildcard pattern, without backtracking.
export function compileGlob(p: Pattern): (s: string) => boolean {
  const seg = p.segments
  if (seg.length === 1) {
    const exact = seg[0] as string
    return (s) => s === exact
  }
  const head = seg[0] as string
  const tail = seg[seg.length - 1] as string
  const middle = seg.slice(1, -1).filter((m) => m !== '')
  if (middle.length === 0) {
    if (head === '' && tail === '') return () => true
    return (s) => s.length >= head.length + tail.length && s.startsWith(head) && s.endsWith(tail)
  }
  if (middle.length === 1 && head === '' && tail === '') {
    const only = middle[0] as string
    return (s) => s.includes(only)
  }
  return (s) => starMatch(s, head, middle, tail)
}

/**
 * The comparable values of a field: strings, numbers and booleans as strings, list elements flattened.
 * `present` is false when the field has no such value (absent, null, an empty list, or an object —
 * Splunk flattens objects into `field.key` fields, so `field` itself does not exist; Sigma agrees).
 */
export function fieldValues(value: unknown): { present: boolean; values: string[] } {
  if (value === undefined || value === null) return { present: false, values: [] }
  const items = Array.isArray(value) ? value : [value]
  const values: string[] = []
  for (const v of items) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      values.push(String(v).toLowerCase())
  }
  return { present: values.length > 0, values }
}

/** `*`, `**`…: any value. An empty pattern (`""`) is not one: it matches only the empty string. */
function isMatchAll(p: Pattern): boolean {
  return p.segments.length > 1 && p.segments.every((s) => s === '')
}

type FieldValues = ReturnType<typeof fieldValues>

// Rules in a set test the same few fields (verb, objectRef.resource, sourcetype…) of one event in a
// row: resolve and lower-case each field once per event. One slot, so nothing outlives the next event.
let cachedEvent: TelemetryEvent | undefined
let cachedFields = new Map<string, FieldValues>()
function valuesOf(e: TelemetryEvent, field: string): FieldValues {
  if (e !== cachedEvent) {
    cachedEvent = e
    cachedFields = new Map()
  }
  let v = cachedFields.get(field)
  if (!v) {
    v = fieldValues(eventField(e, field))
    cachedFields.set(field, v)
  }
  return v
}

// Whether any value matches any pattern; exact patterns go through one Set lookup per value.
function anyValueMatcher(patterns: readonly Pattern[]): (values: string[]) => boolean {
  if (patterns.some(isMatchAll)) return (values) => values.length > 0
  const plain = patterns.filter((p) => !p.cidr)
  const exact = new Set(plain.filter((p) => p.segments.length === 1).map((p) => p.segments[0] as string))
  const globs = plain.filter((p) => p.segments.length > 1).map(compileGlob)
  const networks = patterns.filter((p) => p.cidr).map((p) => parseCidr(p.text)!)
  if (networks.length > 0) globs.push(cidrPredicate(networks))
  // Plain loops: this runs for every test of every rule on every event.
  return (values) => {
    for (const v of values) {
      if (exact.has(v)) return true
      for (const g of globs) if (g(v)) return true
    }
    return false
  }
}

// `field=v` (or `field IN (…)`) holds when any value matches; `field!=v` needs the field present and
// no value matching (so, unlike `NOT field=v`, it never holds for an event without the field).
function equalityTest(field: string, patterns: readonly Pattern[], negated: boolean): Predicate {
  const matches = anyValueMatcher(patterns)
  return (e) => {
    const { present, values } = valuesOf(e, field)
    return present && matches(values) !== negated
  }
}

function compareTest(field: string, op: CompareOp, value: Pattern): Predicate {
  if (op === '=' || op === '!=') return equalityTest(field, [value], op === '!=')
  const limit = Number(value.text)
  const holds = numericOp(op)
  return (e) => valuesOf(e, field).values.some((v) => v.trim() !== '' && holds(Number(v), limit))
}

function numericOp(op: '<' | '>' | '<=' | '>='): (a: number, b: number) => boolean {
  switch (op) {
    case '<':
      return (a, b) => a < b
    case '>':
      return (a, b) => a > b
    case '<=':
      return (a, b) => a <= b
    case '>=':
      return (a, b) => a >= b
  }
}

// Keywords search the raw record's JSON text, case-insensitively, as a substring (wildcards allowed).
const rawTexts = new WeakMap<TelemetryEvent, string>()
export function rawText(e: TelemetryEvent): string {
  let text = rawTexts.get(e)
  if (text === undefined) {
    text = JSON.stringify(e.raw).toLowerCase()
    rawTexts.set(e, text)
  }
  return text
}

/** Compiles a tree once into a closure over events. */
export function compileNode(node: SplNode): Predicate {
  switch (node.kind) {
    case 'and': {
      const parts = node.children.map(compileNode)
      return (e) => {
        for (const p of parts) if (!p(e)) return false
        return true
      }
    }
    case 'or': {
      const parts = node.children.map(compileNode)
      return (e) => {
        for (const p of parts) if (p(e)) return true
        return false
      }
    }
    case 'not': {
      const inner = compileNode(node.child)
      return (e) => !inner(e)
    }
    case 'compare':
      return compareTest(node.field, node.op, node.value)
    case 'in':
      return equalityTest(node.field, node.values, false)
    case 'keyword': {
      const glob = compileGlob({ segments: ['', ...node.value.segments, ''], text: node.value.text })
      return (e) => glob(rawText(e))
    }
  }
}
