// Sigma string values: `*` / `?` wildcards with `\*`, `\?`, `\\` escapes, compiled to plain string
// operations when possible (equality, startsWith, endsWith, includes, ordered indexOf) and to an
// anchored RegExp only when `?` is used.

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
  if (wildcards.includes('?')) return regexPredicate(glob)
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
  return (s) => orderedMatch(s, first, middle, last)
}

/** `first*m1*m2*…*last`: prefix, then each middle piece in order, then a suffix that doesn't overlap. */
function orderedMatch(s: string, first: string, middle: readonly string[], last: string): boolean {
  if (!s.startsWith(first)) return false
  let pos = first.length
  for (const piece of middle) {
    const at = s.indexOf(piece, pos)
    if (at < 0) return false
    pos = at + piece.length
  }
  return s.length - last.length >= pos && s.endsWith(last)
}

function regexPredicate(glob: Glob): StrPred {
  let src = '^'
  glob.pieces.forEach((piece, i) => {
    src += escapeRegExp(piece)
    const w = glob.wildcards[i]
    if (w) src += w === '*' ? '[\\s\\S]*' : '[\\s\\S]'
  })
  const re = new RegExp(`${src}$`, 'u')
  return (s) => re.test(s)
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
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
