// Sigma condition grammar (spec v2): `or` < `and` < `not` < `N of` < parentheses.
//   expr  := and ('or' and)*          and := unary ('and' unary)*
//   unary := 'not' unary | '(' expr ')' | ('all' | N) 'of' (pattern | 'them') | identifier

export type Condition =
  | { kind: 'ref'; name: string }
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  /** `N of names` (`all of` ⇒ min = names.length). */
  | { kind: 'of'; min: number; names: string[] }

export class ConditionError extends Error {}

interface Token {
  text: string
  /** 1-based column in the condition string. */
  col: number
}

const TOKEN = /\s*(\(|\)|\||[^\s()|]+)/y

function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  TOKEN.lastIndex = 0
  let m = TOKEN.exec(src)
  while (m) {
    const text = m[1]!
    tokens.push({ text, col: m.index + m[0].length - text.length + 1 })
    m = TOKEN.exec(src)
  }
  return tokens
}

const IDENT = /^[A-Za-z0-9_*.-]+$/
/** Deepest nesting of `not` and parentheses: deeper conditions would overflow the stack. */
export const MAX_CONDITION_DEPTH = 100
const RESERVED = new Set(['and', 'or', 'not', 'of', 'them', 'all'])

/**
 * Parses `src` against the selection names in scope. Throws ConditionError naming the column of the
 * problem; unknown identifiers and patterns matching nothing are errors too.
 */
export function parseCondition(src: string, selections: readonly string[]): Condition {
  const tokens = tokenize(src)
  let pos = 0
  const known = new Set(selections)

  let depth = 0
  const peek = (): string | undefined => tokens[pos]?.text.toLowerCase()
  const fail = (what: string): never => {
    const t = tokens[pos]
    if (!t) throw new ConditionError(`${what} at end of condition`)
    throw new ConditionError(`${what} at column ${t.col} ('${t.text.slice(0, 40)}')`)
  }

  function expr(): Condition {
    const items = [and()]
    while (peek() === 'or') {
      pos++
      items.push(and())
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items }
  }

  function and(): Condition {
    const items = [unary()]
    while (peek() === 'and') {
      pos++
      items.push(unary())
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items }
  }

  function unary(): Condition {
    const word = peek()
    if (word === undefined) return fail('expected a selection')
    if (word === 'not' || word === '(') {
      if (++depth > MAX_CONDITION_DEPTH)
        fail(`'not' and parentheses nested deeper than ${MAX_CONDITION_DEPTH}`)
      pos++
      const inner = word === 'not' ? { kind: 'not' as const, item: unary() } : expr()
      if (word === '(') {
        if (peek() !== ')') fail("expected ')'")
        pos++
      }
      depth--
      return inner
    }
    if (word === '|') fail('aggregations (`| count() …`) are not supported, use a correlation rule')
    if (tokens[pos + 1]?.text.toLowerCase() === 'of') return quantifier(word)
    return reference()
  }

  function quantifier(word: string): Condition {
    const all = word === 'all'
    const count = Number(word)
    if (!all && !(Number.isInteger(count) && count >= 1)) fail("expected 'all' or a count before 'of'")
    pos += 2
    const target = tokens[pos]
    if (!target) return fail("expected a pattern or 'them' after 'of'")
    const names = target.text.toLowerCase() === 'them' ? them() : matchPattern(target.text)
    pos++
    if (!all && count > names.length)
      fail(`'${count} of' needs at least ${count} selections, found ${names.length}`)
    return { kind: 'of', min: all ? names.length : count, names }
  }

  function them(): string[] {
    const names = selections.filter((s) => !s.startsWith('_'))
    if (names.length === 0) fail("'them' matches no selection")
    return names
  }

  function matchPattern(pattern: string): string[] {
    if (!IDENT.test(pattern)) fail('expected a selection pattern')
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replaceAll('*', '.*')}$`)
    const names = selections.filter((s) => re.test(s))
    if (names.length === 0) fail(`pattern '${pattern}' matches no selection`)
    return names
  }

  function reference(): Condition {
    const t = tokens[pos]!
    if (RESERVED.has(t.text.toLowerCase()) || !IDENT.test(t.text)) fail('expected a selection name')
    if (t.text.includes('*')) fail(`wildcard '${t.text}' needs '1 of' or 'all of'`)
    if (!known.has(t.text)) fail(`unknown selection '${t.text}'`)
    pos++
    return { kind: 'ref', name: t.text }
  }

  if (tokens.length === 0) throw new ConditionError('condition is empty')
  const root = expr()
  if (peek() === '|') fail('aggregations (`| count() …`) are not supported, use a correlation rule')
  if (pos < tokens.length) fail("expected 'and', 'or' or the end")
  return root
}

/** Every selection name the condition reads, with whether it is read under an odd number of `not`s. */
export function selectionPolarity(cond: Condition, negated = false, out = new Map<string, boolean>()) {
  switch (cond.kind) {
    case 'ref':
      if (!out.has(cond.name) || !negated) out.set(cond.name, negated)
      break
    case 'of':
      for (const name of cond.names) if (!out.has(name) || !negated) out.set(name, negated)
      break
    case 'not':
      selectionPolarity(cond.item, !negated, out)
      break
    default:
      for (const item of cond.items) selectionPolarity(item, negated, out)
  }
  return out
}
