// Sigma string values: `*` / `?` wildcards with `\*`, `\?`, `\\` escapes, compiled to plain string
// operations (equality, startsWith, endsWith, includes, ordered indexOf) and, when `?` is used, to the
// segment matcher of ../glob.ts; nothing backtracks.
import { ANY, type Segment, segmentMatcher, starMatch } from '../glob.js'

export type MatchType = 'equals' | 'contains' | 'startswith' | 'endswith'

/** A value as a sequence of literal pieces separated by wildcards. */
export interface Glob {
  /** Literal text between wildcards (unescaped). pieces.length === wildcards.length + 1. */
  pieces: string[]
  /** wildcards[i] sits between pieces[i] and pieces[i + 1]. */
  wildcards: ('*' | '?')[]
}

/** Splits a Sigma value into literal pieces and wildcards, honouring the escapes. */
export function parseGlob(value: string): Glob {
  const pieces: string[] = []
  const wildcards: ('*' | '?')[] = []
  let piece = ''
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (c === '\\') {
      const next = value[i + 1]
      if (next === '*' || next === '?' || next === '\\') {
        piece += next
        i++
      } else piece += c // a lone or trailing backslash is literal
    } else if (c === '*' || c === '?') {
      pieces.push(piece)
      wildcards.push(c)
      piece = ''
    } else piece += c
  }
  pieces.push(piece)
  return { pieces, wildcards }
}

/** Literal glob (no wildcards) for values that must not be interpreted (encoded values, keywords). */
export function literalGlob(value: string): Glob {
  return { pieces: [value], wildcards: [] }
}

/** Applies the match type by adding leading/trailing `*`. */
export function withMatchType(glob: Glob, type: MatchType): Glob {
  const pieces = [...glob.pieces]
  const wildcards = [...glob.wildcards]
  if (type === 'contains' || type === 'endswith') {
    pieces.unshift('')
    wildcards.unshift('*')
  }
  if (type === 'contains' || type === 'startswith') {
    pieces.push('')
    wildcards.push('*')
  }
  return { pieces, wildcards }
}

export function mapGlob(glob: Glob, fn: (piece: string) => string): Glob {
  return { pieces: glob.pieces.map(fn), wildcards: glob.wildcards }
}

export type StrPred = (s: string) => boolean

/** Compiles a glob into a whole-string predicate. */
export function globPredicate(glob: Glob): StrPred {
  const { pieces, wildcards } = glob
  if (wildcards.length === 0) {
    const lit = pieces[0]!
    return (s) => s === lit
  }
  if (wildcards.includes('?')) return withAnyChar(glob)
  const first = pieces[0]!
  const last = pieces[pieces.length - 1]!
  const middle = pieces.slice(1, -1).filter((p) => p !== '')
  if (middle.length === 0) {
    if (first === '' && last === '') return () => true
    if (first === '') return (s) => s.endsWith(last)
    if (last === '') return (s) => s.startsWith(first)
    const min = first.length + last.length
    return (s) => s.length >= min && s.startsWith(first) && s.endsWith(last)
  }
  if (first === '' && last === '' && middle.length === 1) {
    const lit = middle[0]!
    return (s) => s.includes(lit)
  }
  return (s) => starMatch(s, first, middle, last)
}

/** A glob with `?`: pieces regrouped into `*`-separated segments of characters and ANY. */
function withAnyChar(glob: Glob): StrPred {
  const segments: Segment[] = []
  let current: (string | typeof ANY)[] = []
  glob.pieces.forEach((piece, i) => {
    current.push(...Array.from(piece))
    const w = glob.wildcards[i]
    if (w === '?') current.push(ANY)
    else if (w === '*') {
      segments.push(current)
      current = []
    }
  })
  segments.push(current)
  return segmentMatcher(segments)
}

/** OR of many predicates; exact literals collapse into one Set lookup. */
export function anyOf(globs: readonly Glob[]): StrPred {
  const exact = new Set<string>()
  const others: StrPred[] = []
  for (const g of globs) {
    if (g.wildcards.length === 0) exact.add(g.pieces[0]!)
    else others.push(globPredicate(g))
  }
  if (others.length === 0) {
    if (exact.size === 1) {
      const only = [...exact][0]!
      return (s) => s === only
    }
    return (s) => exact.has(s)
  }
  if (exact.size === 0 && others.length === 1) return others[0]!
  return (s) => {
    if (exact.has(s)) return true
    for (const p of others) if (p(s)) return true
    return false
  }
}

/** Shows a value the way a rule author wrote it, for near-miss explanations. */
export function showValue(v: unknown): string {
  return v === null ? 'null' : typeof v === 'string' ? `'${v}'` : String(v)
}
