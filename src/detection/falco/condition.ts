// Falco condition syntax → tree. Grammar (precedence `or` < `and` < `not`):
//   expr    := and ('or' and)*            and := unary ('and' unary)*
//   unary   := 'not' unary | '(' expr ')' | check | macro-name
//   check   := field (unary-op | binary-op value | list-op (list | list-name))
//   field   := name ['[' arg ']'] | transformer '(' field ')'
// The tokenizer is a single left-to-right scan; parsing is recursive descent with a depth bound, so
// hostile conditions cost time linear in their length.

export const BINARY_OPS = [
  '=',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'contains',
  'icontains',
  'bcontains',
  'startswith',
  'bstartswith',
  'endswith',
  'glob',
  'iglob',
  'regex',
] as const
export const LIST_OPS = ['in', 'intersects', 'pmatch'] as const
export const UNARY_OPS = ['exists'] as const
export type Operator = (typeof BINARY_OPS)[number] | (typeof LIST_OPS)[number] | (typeof UNARY_OPS)[number]

export const TRANSFORMERS = ['tolower', 'toupper', 'b64', 'basename', 'len', 'val'] as const

export interface FieldRef {
  name: string
  arg?: string
  /** Innermost first, e.g. `toupper(tolower(f))` → ['tolower', 'toupper']. */
  transformers: string[]
}

/** A right-hand value as written; only bare (unquoted) list items can name a list. */
export interface Value {
  text: string
  quoted: boolean
}

export type Expr =
  | { kind: 'and' | 'or'; items: Expr[] }
  | { kind: 'not'; item: Expr }
  | { kind: 'macro'; name: string }
  /** `listRef`: `f in some_list` written without parentheses. */
  | { kind: 'check'; field: FieldRef; op: Operator; values: Value[]; listRef?: string }

export class ConditionSyntaxError extends Error {}

type TokenKind = 'word' | 'string' | 'lparen' | 'rparen' | 'comma' | 'op'
interface Token {
  kind: TokenKind
  text: string
  /** 1-based column. */
  col: number
}

const MAX_DEPTH = 200
const OP_CHARS = new Set(['=', '<', '>', '!'])

function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const n = src.length
  while (i < n) {
    const c = src[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
      continue
    }
    const col = i + 1
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, col })
      i++
      continue
    }
    if (c === '"' || c === "'") {
      let out = ''
      let j = i + 1
      for (; j < n && src[j] !== c; j++) {
        if (src[j] === '\\' && j + 1 < n) {
          const e = src[++j]!
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e
        } else out += src[j]
      }
      if (j >= n) throw new ConditionSyntaxError(`unterminated string starting at column ${col}`)
      tokens.push({ kind: 'string', text: out, col })
      i = j + 1
      continue
    }
    if (OP_CHARS.has(c) && (c !== '!' || src[i + 1] === '=')) {
      const two = src.slice(i, i + 2)
      const op = two === '==' || two === '!=' || two === '<=' || two === '>=' ? two : c
      tokens.push({ kind: 'op', text: op, col })
      i += op.length
      continue
    }
    // A bare word; a `[...]` field argument may hold any character but `]`.
    let j = i
    while (j < n) {
      const d = src[j]!
      if (d === '[') {
        const close = src.indexOf(']', j + 1)
        if (close === -1) throw new ConditionSyntaxError(`unterminated '[' at column ${j + 1}`)
        j = close + 1
        continue
      }
      if (' \t\n\r(),"\'=<>'.includes(d) || (d === '!' && src[j + 1] === '=')) break
      j++
    }
    tokens.push({ kind: 'word', text: src.slice(i, j), col })
    i = j
  }
  return tokens
}

const FIELD_NAME = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\[([^\]]*)\])?$/
const KEYWORD_OPS: ReadonlySet<string> = new Set([...BINARY_OPS, ...LIST_OPS, ...UNARY_OPS])

/** Parses one condition (a rule's or a macro's). Throws ConditionSyntaxError naming the column. */
export function parseCondition(src: string): Expr {
  const tokens = tokenize(src)
  let pos = 0
  let depth = 0
  const peek = () => tokens[pos]
  const fail = (what: string): never => {
    const t = tokens[pos]
    throw new ConditionSyntaxError(
      t ? `${what} at column ${t.col} ('${t.text}')` : `${what} at end of condition`,
    )
  }
  const isWord = (t: Token | undefined, text: string) => t?.kind === 'word' && t.text === text
  const nested = <T>(f: () => T): T => {
    if (++depth > MAX_DEPTH) fail(`condition nested deeper than ${MAX_DEPTH}`)
    try {
      return f()
    } finally {
      depth--
    }
  }

  function expr(): Expr {
    return nested(() => {
      const items = [and()]
      while (isWord(peek(), 'or')) {
        pos++
        items.push(and())
      }
      return items.length === 1 ? items[0]! : { kind: 'or', items }
    })
  }
  function and(): Expr {
    const items = [unary()]
    while (isWord(peek(), 'and')) {
      pos++
      items.push(unary())
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items }
  }
  function unary(): Expr {
    const t = peek()
    if (isWord(t, 'not')) {
      pos++
      return nested(() => ({ kind: 'not', item: unary() }))
    }
    if (t?.kind === 'lparen') {
      pos++
      const inner = expr()
      if (peek()?.kind !== 'rparen') fail("expected ')'")
      pos++
      return inner
    }
    if (t?.kind !== 'word') return fail('expected a field, macro, `not` or `(`')
    const next = tokens[pos + 1]
    const startsCheck =
      next?.kind === 'op' ||
      (next?.kind === 'word' && KEYWORD_OPS.has(next.text)) ||
      ((TRANSFORMERS as readonly string[]).includes(t.text) && next?.kind === 'lparen')
    if (!startsCheck) {
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(t.text)) fail('expected a macro name or a field comparison')
      pos++
      return { kind: 'macro', name: t.text }
    }
    return check()
  }
  function fieldRef(): FieldRef {
    const t = peek()
    if (t?.kind !== 'word') return fail('expected a field')
    if ((TRANSFORMERS as readonly string[]).includes(t.text) && tokens[pos + 1]?.kind === 'lparen') {
      pos += 2
      const inner = nested(fieldRef)
      if (peek()?.kind !== 'rparen') fail(`expected ')' closing ${t.text}(`)
      pos++
      return { ...inner, transformers: [...inner.transformers, t.text] }
    }
    const m = FIELD_NAME.exec(t.text)
    if (!m) return fail('expected a field name')
    pos++
    return { name: m[1]!, ...(m[2] !== undefined ? { arg: m[2] } : {}), transformers: [] }
  }
  function check(): Expr {
    const field = fieldRef()
    const t = peek()
    if (!t || (t.kind !== 'op' && !(t.kind === 'word' && KEYWORD_OPS.has(t.text))))
      return fail('expected an operator')
    pos++
    const op = (t.text === '==' ? '=' : t.text) as Operator
    if (op === 'exists') return { kind: 'check', field, op, values: [] }
    if ((LIST_OPS as readonly string[]).includes(op)) {
      const open = peek()
      if (open?.kind === 'word' && !KEYWORD_OPS.has(open.text)) {
        pos++
        return { kind: 'check', field, op, values: [], listRef: open.text }
      }
      if (open?.kind !== 'lparen') fail(`expected '(' after ${op}`)
      pos++
      const values: Value[] = []
      while (peek()?.kind !== 'rparen') {
        values.push(value())
        if (peek()?.kind === 'comma') pos++
        else if (peek()?.kind !== 'rparen') fail("expected ',' or ')' in list")
      }
      pos++
      return { kind: 'check', field, op, values }
    }
    return { kind: 'check', field, op, values: [value()] }
  }
  function value(): Value {
    const t = peek()
    if (t?.kind === 'string') {
      pos++
      return { text: t.text, quoted: true }
    }
    if (t?.kind === 'word') {
      pos++
      return { text: t.text, quoted: false }
    }
    return fail('expected a value')
  }

  if (tokens.length === 0) throw new ConditionSyntaxError('empty condition')
  const tree = expr()
  if (pos < tokens.length) fail('unexpected token')
  return tree
}
