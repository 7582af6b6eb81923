import { getField, type TelemetryEvent } from '../../telemetry/event.js'
import type { CompareOp, Pattern, SplNode } from './ast.js'

export type Predicate = (event: TelemetryEvent) => boolean

// Matches a lower-cased string against a compiled wildcard pattern.
export function compileGlob(p: Pattern): (s: string) => boolean {
  const seg = p.segments
  if (seg.length === 1) {
    const exact = seg[0] as string
    return (s) => s === exact
  }
  const [head, ...rest] = seg as [string, ...string[]]
  const tail = rest.pop() as string
  if (rest.length === 0)
    return (s) => s.length >= head.length + tail.length && s.startsWith(head) && s.endsWith(tail)
  if (rest.length === 1 && head === '' && tail === '') {
    const middle = rest[0] as string
    return (s) => s.includes(middle)
  }
  const re = new RegExp(`^${seg.map(escapeRegExp).join('.*')}$`, 's')
  return (s) => re.test(s)
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The comparable values of a field: strings, numbers and booleans as strings, list elements flattened.
 * `present` is false when the field is absent (undefined, null or an empty list).
 */
export function fieldValues(value: unknown): { present: boolean; values: string[] } {
  if (value === undefined || value === null) return { present: false, values: [] }
  const items = Array.isArray(value) ? value : [value]
  const values: string[] = []
  for (const v of items) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      values.push(String(v).toLowerCase())
  }
  return { present: items.length > 0, values }
}

function isMatchAll(p: Pattern): boolean {
  return p.segments.every((s) => s === '')
}

// `field=v` holds when any value matches; `field!=v` needs the field present and no value matching
// (so, unlike `NOT field=v`, it never holds for an event without the field).
function compareTest(field: string, op: CompareOp, value: Pattern): Predicate {
  if (op === '=' || op === '!=') {
    const glob = compileGlob(value)
    const anyMatch = (e: TelemetryEvent): boolean | undefined => {
      const { present, values } = fieldValues(getField(e, field))
      if (!present) return undefined
      return isMatchAll(value) || values.some(glob)
    }
    return op === '=' ? (e) => anyMatch(e) === true : (e) => anyMatch(e) === false
  }
  const limit = Number(value.text)
  const holds = numericOp(op)
  return (e) => fieldValues(getField(e, field)).values.some((v) => v.trim() !== '' && holds(Number(v), limit))
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
      return (e) => parts.every((p) => p(e))
    }
    case 'or': {
      const parts = node.children.map(compileNode)
      return (e) => parts.some((p) => p(e))
    }
    case 'not': {
      const inner = compileNode(node.child)
      return (e) => !inner(e)
    }
    case 'compare':
      return compareTest(node.field, node.op, node.value)
    case 'in': {
      const tests = node.values.map((v) => compareTest(node.field, '=', v))
      return (e) => tests.some((t) => t(e))
    }
    case 'keyword': {
      const glob = compileGlob({ segments: ['', ...node.value.segments, ''], text: node.value.text })
      return (e) => glob(rawText(e))
    }
  }
}
