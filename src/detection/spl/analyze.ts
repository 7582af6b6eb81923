import {
  getField,
  SOURCES,
  SOURCETYPES,
  type SourceName,
  type TelemetryEvent,
} from '../../telemetry/event.js'
import { DERIVED_FIELDS } from '../../telemetry/normalize.js'
import type { NearMiss } from '../types.js'
import { describeNode, type Pattern, type SplNode } from './ast.js'
import { compileGlob, compileNode } from './match.js'

// Fields that never come from the raw line: the envelope and every alias a normalizer derives.
const NOT_RAW = new Set([...DERIVED_FIELDS, 'source', 'sourcetype', 'index', '_time'])
// Characters whose JSON encoding is themselves, so a value made of them appears verbatim in the line.
const VERBATIM = /^[A-Za-z0-9 ._:@=,+-]+$/

/**
 * Literals (lower-case) of which one must occur in an event's raw line for `node` to match, or
 * undefined when no such list is known. Only positive, mandatory tests on raw fields contribute.
 */
export function prefilterOf(node: SplNode): string[] | undefined {
  switch (node.kind) {
    case 'and': {
      const lists = node.children.map(prefilterOf).filter((l): l is string[] => l !== undefined)
      return lists.sort((a, b) => a.length - b.length || minLength(b) - minLength(a))[0]
    }
    case 'or':
    case 'in': {
      const parts =
        node.kind === 'or'
          ? node.children.map(prefilterOf)
          : node.values.map((value) => literalOf(node.field, value))
      if (parts.some((p) => p === undefined)) return undefined
      return [...new Set(parts.flat() as string[])]
    }
    case 'compare':
      return node.op === '=' ? literalOf(node.field, node.value) : undefined
    case 'not':
    case 'keyword':
      return undefined
  }
}

/** Every literal list `node` requires (any one is a valid prefilter): AND-ed parts each give theirs. */
export function prefilterChoicesOf(node: SplNode): string[][] {
  if (node.kind === 'and') return node.children.flatMap(prefilterChoicesOf)
  const list = prefilterOf(node)
  return list ? [list] : []
}

// The longest literal run of a value, when it is safe to look for in the raw JSON line.
function literalOf(field: string, value: Pattern): string[] | undefined {
  if (NOT_RAW.has(field)) return undefined
  const longest = value.segments.reduce((a, b) => (b.length > a.length ? b : a), '')
  if (!VERBATIM.test(longest) || !VERBATIM.test(value.text.replaceAll('*', 'x'))) return undefined
  // JSON may print a number differently from how the rule writes it (1.50, 1e3, rounded big integers).
  const numeric = /^[-+.\deE]+$/.test(longest)
  if (numeric && !(value.segments.length === 1 && isCanonicalInteger(longest))) return undefined
  return [longest]
}

function isCanonicalInteger(s: string): boolean {
  return /^-?\d+$/.test(s) && Number.isSafeInteger(Number(s)) && String(Number(s)) === s
}

function minLength(list: string[]): number {
  return Math.min(...list.map((s) => s.length))
}

/** The sources a rule can match, from its positive `sourcetype` tests; undefined = any. */
export function sourcesOf(node: SplNode): SourceName[] | undefined {
  switch (node.kind) {
    case 'and': {
      let result: SourceName[] | undefined
      for (const child of node.children) {
        const s = sourcesOf(child)
        if (s) result = result ? result.filter((x) => s.includes(x)) : s
      }
      return result
    }
    case 'or': {
      const parts = node.children.map(sourcesOf)
      if (parts.some((p) => p === undefined)) return undefined
      return SOURCES.filter((s) => parts.some((p) => p?.includes(s)))
    }
    case 'compare':
      return node.field === 'sourcetype' && node.op === '=' ? sourcesMatching(node.value) : undefined
    case 'in':
      return node.field === 'sourcetype'
        ? SOURCES.filter((s) => node.values.some((v) => sourcesMatching(v).includes(s)))
        : undefined
    case 'not':
    case 'keyword':
      return undefined
  }
}

/** Sources whose sourcetype a value matches (for validating and for `sources`). */
export function sourcesMatching(value: Pattern): SourceName[] {
  const glob = compileGlob(value)
  return SOURCES.filter((s) => glob(SOURCETYPES[s]))
}

interface Explanation {
  passed: number
  total: number
  miss?: { field: string; expected: string; actual: unknown }
}

/** Explains a non-match: the nearest OR branch, its share of passing tests and its first failing test. */
export function explain(node: SplNode, event: TelemetryEvent): Explanation {
  switch (node.kind) {
    case 'and': {
      const parts = node.children.map((c) => explain(c, event))
      return {
        passed: parts.reduce((n, p) => n + p.passed, 0),
        total: parts.reduce((n, p) => n + p.total, 0),
        ...firstMiss(parts),
      }
    }
    case 'or': {
      const parts = node.children.map((c) => explain(c, event))
      return parts.reduce((best, p) => (p.passed / p.total > best.passed / best.total ? p : best))
    }
    default: {
      if (leafPredicate(node)(event)) return { passed: 1, total: 1 }
      const field = leafField(node)
      const actual = field === '_raw' ? undefined : getField(event, field)
      return { passed: 0, total: 1, miss: { field, expected: describeNode(node), actual } }
    }
  }
}

const leafPredicates = new WeakMap<SplNode, (e: TelemetryEvent) => boolean>()
function leafPredicate(node: SplNode): (e: TelemetryEvent) => boolean {
  let p = leafPredicates.get(node)
  if (!p) {
    p = compileNode(node)
    leafPredicates.set(node, p)
  }
  return p
}

function firstMiss(parts: Explanation[]): Pick<Explanation, 'miss'> {
  const miss = parts.find((p) => p.miss)?.miss
  return miss ? { miss } : {}
}

function leafField(node: SplNode): string {
  if (node.kind === 'compare' || node.kind === 'in') return node.field
  if (node.kind === 'not') return leafField(node.child)
  return '_raw'
}

export function nearMissOf(rule: string, node: SplNode, event: TelemetryEvent): NearMiss | undefined {
  const { passed, total, miss } = explain(node, event)
  if (!miss) return undefined
  return { rule, score: passed / total, ...miss }
}
