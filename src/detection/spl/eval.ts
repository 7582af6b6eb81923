// `eval`/`where` expressions: parsed once into closures over rows. Regular expressions (match, like,
// replace with a pattern) go through the linear-time matcher: nothing backtracks on event data.
import { compileRegex, type LinearRegex, RegexError } from '../linear-regex.js'
import type { SplLexer } from './lexer.js'
import { fromList, lookup, num, type Row, type Scalar, str, type Value, values } from './rows.js'

/** What an expression yields: a field value or a boolean (comparisons, AND/OR, isnull…). */
export type EvalValue = Value | boolean
export type Expr = (row: Row) => EvalValue

type Tok =
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'field'; v: string; at: number }
  | { t: 'ident'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'eof'; at: number }

const OPS = ['==', '!=', '<=', '>=', '=', '<', '>', '+', '-', '*', '/', '%', '.', '(', ')', ',']
const MAX_DEPTH = 100

/** Parses `src[start, end)` as one expression; errors name line:column through `lx`. */
export function parseExpr(lx: SplLexer, start: number, end: number): Expr {
  return new ExprParser(lx, tokenize(lx, start, end)).parseAll()
}

function tokenize(lx: SplLexer, start: number, end: number): Tok[] {
  const src = lx.src
  const out: Tok[] = []
  let i = start
  while (i < end) {
    const c = src[i] as string
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === '"' || c === "'") {
      let v = ''
      let j = i + 1
      for (; j < end && src[j] !== c; j++) {
        if (src[j] === '\\' && j + 1 < end) j++
        v += src[j]
      }
      if (j >= end) throw lx.invalid('unterminated quoted string', i)
      out.push(c === '"' ? { t: 'str', v, at: i } : { t: 'field', v, at: i })
      i = j + 1
      continue
    }
    const number = /^\d+(\.\d+)?([eE][-+]?\d+)?/.exec(src.slice(i, Math.min(end, i + 64)))
    if (number) {
      out.push({ t: 'num', v: Number(number[0]), at: i })
      i += number[0].length
      continue
    }
    const ident = /^[A-Za-z_@][A-Za-z0-9_.{}@:]*/.exec(src.slice(i, Math.min(end, i + 1024)))
    if (ident) {
      // A trailing `.` is the concatenation operator, not part of the name.
      const name = ident[0].replace(/\.+$/, '')
      out.push({ t: 'ident', v: name, at: i })
      i += name.length
      continue
    }
    const op = OPS.find((o) => src.startsWith(o, i))
    if (!op) throw lx.unsupported('this character in an eval expression', c, i)
    out.push({ t: 'op', v: op, at: i })
    i += op.length
  }
  out.push({ t: 'eof', at: end })
  return out
}

class ExprParser {
  private i = 0
  private depth = 0
  constructor(
    private readonly lx: SplLexer,
    private readonly toks: Tok[],
  ) {}

  parseAll(): Expr {
    const e = this.or()
    const t = this.peek()
    if (t.t !== 'eof') throw this.lx.invalid(`unexpected '${'v' in t ? t.v : ''}' in expression`, t.at)
    return e
  }

  private peek(): Tok {
    return this.toks[this.i] as Tok
  }
  private take(): Tok {
    return this.toks[this.i++] as Tok
  }
  private word(w: string): boolean {
    const t = this.peek()
    return t.t === 'ident' && t.v.toUpperCase() === w
  }
  private isOp(v: string): boolean {
    const t = this.peek()
    return t.t === 'op' && t.v === v
  }

  private or(): Expr {
    let left = this.and()
    while (this.word('OR') || this.word('XOR')) {
      const xor = (this.take() as { v: string }).v.toUpperCase() === 'XOR'
      const l = left
      const r = this.and()
      left = xor ? (row) => truthy(l(row)) !== truthy(r(row)) : (row) => truthy(l(row)) || truthy(r(row))
    }
    return left
  }

  private and(): Expr {
    let left = this.not()
    while (this.word('AND')) {
      this.take()
      const l = left
      const r = this.not()
      left = (row) => truthy(l(row)) && truthy(r(row))
    }
    return left
  }

  private not(): Expr {
    if (!this.word('NOT')) return this.comparison()
    const t = this.take()
    if (++this.depth > MAX_DEPTH) throw this.lx.invalid('expression nested too deeply', t.at)
    const inner = this.not()
    this.depth--
    return (row) => !truthy(inner(row))
  }

  private comparison(): Expr {
    const left = this.additive()
    const t = this.peek()
    if (t.t === 'op' && ['=', '==', '!=', '<', '>', '<=', '>='].includes(t.v)) {
      this.take()
      const right = this.additive()
      return compare(t.v, left, right)
    }
    if (this.word('LIKE')) {
      this.take()
      const right = this.additive()
      return likeExpr(left, right)
    }
    if (this.word('IN')) {
      this.take()
      const list = this.args()
      return (row) => {
        const vs = values(asValue(left(row))).map(str)
        return list.some((e) => values(asValue(e(row))).some((x) => vs.includes(str(x))))
      }
    }
    return left
  }

  private additive(): Expr {
    let left = this.multiplicative()
    for (;;) {
      const t = this.peek()
      if (t.t !== 'op' || !['+', '-', '.'].includes(t.v)) return left
      this.take()
      const l = left
      const r = this.multiplicative()
      left =
        t.v === '.'
          ? (row) => concat(l(row), r(row))
          : t.v === '+'
            ? (row) => plus(l(row), r(row))
            : arith(l, r, (a, b) => a - b)
    }
  }

  private multiplicative(): Expr {
    let left = this.unary()
    for (;;) {
      const t = this.peek()
      if (t.t !== 'op' || !['*', '/', '%'].includes(t.v)) return left
      this.take()
      const r = this.unary()
      const fn =
        t.v === '*'
          ? (a: number, b: number) => a * b
          : t.v === '/'
            ? (a: number, b: number) => a / b
            : (a: number, b: number) => a % b
      left = arith(left, r, fn)
    }
  }

  private unary(): Expr {
    if (this.isOp('-')) {
      this.take()
      const inner = this.unary()
      return (row) => {
        const n = num(scalarOf(inner(row)))
        return n === undefined ? null : -n
      }
    }
    return this.primary()
  }

  private primary(): Expr {
    const t = this.take()
    switch (t.t) {
      case 'num':
        return () => t.v
      case 'str':
        return () => t.v
      case 'field':
        return (row) => lookup(row, t.v)
      case 'ident': {
        if (this.isOp('(')) return this.call(t.v, t.at)
        const name = t.v
        return (row) => lookup(row, name)
      }
      case 'op':
        if (t.v === '(') {
          if (++this.depth > MAX_DEPTH) throw this.lx.invalid('expression nested too deeply', t.at)
          const e = this.or()
          if (!this.isOp(')')) throw this.lx.invalid("missing ')'", this.peek().at)
          this.take()
          this.depth--
          return e
        }
        throw this.lx.invalid(`unexpected '${t.v}' in expression`, t.at)
      case 'eof':
        throw this.lx.invalid('an expression is missing', t.at)
    }
  }

  private args(): Expr[] {
    const open = this.take()
    if (open.t !== 'op' || open.v !== '(') throw this.lx.invalid("expected '('", open.at)
    if (++this.depth > MAX_DEPTH) throw this.lx.invalid('expression nested too deeply', open.at)
    const out: Expr[] = []
    if (this.isOp(')')) {
      this.take()
      this.depth--
      return out
    }
    for (;;) {
      out.push(this.or())
      const sep = this.take()
      if (sep.t === 'op' && sep.v === ')') break
      if (sep.t !== 'op' || sep.v !== ',') throw this.lx.invalid("expected ',' or ')'", sep.at)
    }
    this.depth--
    return out
  }

  private call(name: string, at: number): Expr {
    const argTokens = this.toks.slice(this.i)
    const args = this.args()
    const fn = FUNCTIONS[name.toLowerCase()]
    if (!fn) throw this.lx.unsupported(`the eval function '${name}'`, `${name}(`, at)
    const [min, max] = fn.arity
    if (args.length < min || args.length > max) {
      throw this.lx.invalid(
        `${name}() takes ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`,
        at,
      )
    }
    // Literal regex arguments compile now, so a bad or backtracking-only pattern is a load-time error.
    const literal = (n: number) => literalArg(argTokens, n)
    return fn.make(args, {
      literal,
      fail: (msg) => this.lx.invalid(msg, at),
      unsupported: (what) => this.lx.unsupported(what, `${name}(`, at),
    })
  }
}

// The string literal that is argument `n` of a call, when it is one (tokens start at the `(`).
function literalArg(toks: Tok[], n: number): string | undefined {
  let depth = 0
  let index = 0
  for (let k = 1; k < toks.length; k++) {
    const t = toks[k] as Tok
    if (t.t === 'op' && t.v === '(') depth++
    else if (t.t === 'op' && t.v === ')') {
      if (depth-- === 0) return undefined
    } else if (t.t === 'op' && t.v === ',' && depth === 0) index++
    else if (index === n && depth === 0 && t.t === 'str') {
      const next = toks[k + 1]
      return next && next.t === 'op' && (next.v === ',' || next.v === ')') ? t.v : undefined
    }
  }
  return undefined
}

interface CallContext {
  literal(n: number): string | undefined
  fail(message: string): Error
  unsupported(what: string): Error
}

interface Fn {
  arity: [number, number]
  make(args: Expr[], ctx: CallContext): Expr
}

const one = (f: (v: Value) => EvalValue): Fn => ({
  arity: [1, 1],
  make:
    ([a]) =>
    (row) =>
      f(asValue((a as Expr)(row))),
})

const mapScalars = (f: (s: Scalar) => Scalar | null) =>
  one((v) =>
    fromList(
      values(v)
        .map(f)
        .filter((x): x is Scalar => x !== null),
    ),
  )

const FUNCTIONS: Record<string, Fn> = {
  if: {
    arity: [3, 3],
    make:
      ([c, a, b]) =>
      (row) =>
        truthy((c as Expr)(row)) ? (a as Expr)(row) : (b as Expr)(row),
  },
  case: {
    arity: [2, 200],
    make: (args, ctx) => {
      if (args.length % 2 !== 0) throw ctx.fail('case() takes condition, value pairs')
      return (row) => {
        for (let k = 0; k < args.length; k += 2)
          if (truthy((args[k] as Expr)(row))) return (args[k + 1] as Expr)(row)
        return null
      }
    },
  },
  coalesce: {
    arity: [1, 200],
    make: (args) => (row) => {
      for (const a of args) {
        const v = a(row)
        if (v !== null && v !== '') return v
      }
      return null
    },
  },
  null: { arity: [0, 0], make: () => () => null },
  true: { arity: [0, 0], make: () => () => true },
  false: { arity: [0, 0], make: () => () => false },
  now: { arity: [0, 0], make: () => () => Math.floor(Date.now() / 1000) },
  time: { arity: [0, 0], make: () => () => Date.now() / 1000 },
  isnull: {
    arity: [1, 1],
    make:
      ([a]) =>
      (row) =>
        (a as Expr)(row) === null,
  },
  isnotnull: {
    arity: [1, 1],
    make:
      ([a]) =>
      (row) =>
        (a as Expr)(row) !== null,
  },
  isnum: one((v) => v !== null && !Array.isArray(v) && num(v) !== undefined),
  isstr: one((v) => typeof v === 'string'),
  lower: mapScalars((s) => str(s).toLowerCase()),
  upper: mapScalars((s) => str(s).toUpperCase()),
  trim: mapScalars((s) => str(s).trim()),
  ltrim: mapScalars((s) => str(s).trimStart()),
  rtrim: mapScalars((s) => str(s).trimEnd()),
  len: mapScalars((s) => [...str(s)].length),
  abs: mapScalars((s) => (num(s) === undefined ? null : Math.abs(num(s) as number))),
  floor: mapScalars((s) => (num(s) === undefined ? null : Math.floor(num(s) as number))),
  ceiling: mapScalars((s) => (num(s) === undefined ? null : Math.ceil(num(s) as number))),
  tostring: {
    arity: [1, 2],
    make:
      ([a]) =>
      (row) => {
        const v = asValue((a as Expr)(row))
        return v === null ? null : fromList(values(v).map(str))
      },
  },
  tonumber: {
    arity: [1, 2],
    make:
      ([a, base]) =>
      (row) => {
        const s = scalarOf((a as Expr)(row))
        if (s === null) return null
        if (base) {
          const b = num(scalarOf(base(row)))
          const n = b ? Number.parseInt(str(s), b) : Number.NaN
          return Number.isNaN(n) ? null : n
        }
        return num(s) ?? null
      },
  },
  round: {
    arity: [1, 2],
    make:
      ([a, d]) =>
      (row) => {
        const n = num(scalarOf((a as Expr)(row)))
        if (n === undefined) return null
        const digits = d ? (num(scalarOf(d(row))) ?? 0) : 0
        const f = 10 ** digits
        return Math.round(n * f) / f
      },
  },
  substr: {
    arity: [2, 3],
    make:
      ([a, s, l]) =>
      (row) => {
        const v = scalarOf((a as Expr)(row))
        const start = num(scalarOf((s as Expr)(row)))
        if (v === null || start === undefined) return null
        const chars = [...str(v)]
        // 1-based; a negative start counts from the end.
        const from = start > 0 ? start - 1 : Math.max(0, chars.length + start)
        const len = l ? num(scalarOf(l(row))) : undefined
        return chars.slice(from, len === undefined ? undefined : from + len).join('')
      },
  },
  split: {
    arity: [2, 2],
    make:
      ([a, d]) =>
      (row) => {
        const v = scalarOf((a as Expr)(row))
        const sep = scalarOf((d as Expr)(row))
        if (v === null || sep === null) return null
        return fromList(sep === '' ? [...str(v)] : str(v).split(str(sep)))
      },
  },
  mvcount: one((v) => (v === null ? null : values(v).length)),
  mvindex: {
    arity: [2, 3],
    make:
      ([a, s, e]) =>
      (row) => {
        const list = values(asValue((a as Expr)(row)))
        const norm = (n: number | undefined) => (n === undefined ? undefined : n < 0 ? list.length + n : n)
        const start = norm(num(scalarOf((s as Expr)(row))))
        if (start === undefined || start < 0 || start >= list.length) return null
        const end = e ? norm(num(scalarOf(e(row)))) : start
        if (end === undefined) return null
        return fromList(list.slice(start, Math.min(end, list.length - 1) + 1))
      },
  },
  mvjoin: {
    arity: [2, 2],
    make:
      ([a, d]) =>
      (row) => {
        const list = values(asValue((a as Expr)(row)))
        const sep = scalarOf((d as Expr)(row))
        return list.length === 0 || sep === null ? null : list.map(str).join(str(sep))
      },
  },
  mvappend: {
    arity: [1, 200],
    make: (args) => (row) => fromList(args.flatMap((a) => values(asValue(a(row))))),
  },
  mvdedup: one((v) => fromList([...new Set(values(v))])),
  mvsort: one((v) => fromList(values(v).map(str).sort())),
  match: {
    arity: [2, 2],
    make: ([a, r], ctx) => {
      const re = regexArg(r as Expr, ctx.literal(1), ctx)
      return (row) => {
        const v = scalarOf((a as Expr)(row))
        const regex = re(row)
        return v === null || !regex ? null : regex.test(str(v))
      }
    },
  },
  like: {
    arity: [2, 2],
    make: ([a, p], ctx) => likeExpr(a as Expr, p as Expr, ctx.literal(1)),
  },
  replace: {
    arity: [3, 3],
    make: ([a, , s], ctx) => {
      const pattern = ctx.literal(1)
      // Substitution needs match positions, which the linear matcher does not report: only a pattern
      // without regex metacharacters (a plain substring) is replaced.
      if (pattern === undefined || /[\\^$.|?*+()[\]{}]/.test(pattern)) {
        throw ctx.unsupported('replace() with a regular expression (only a literal substring pattern)')
      }
      return (row) => {
        const v = asValue((a as Expr)(row))
        const with_ = scalarOf((s as Expr)(row))
        if (v === null || with_ === null) return null
        return fromList(values(v).map((x) => str(x).split(pattern).join(str(with_))))
      }
    },
  },
  strftime: {
    arity: [2, 2],
    make:
      ([t, f]) =>
      (row) => {
        const secs = num(scalarOf((t as Expr)(row)))
        const fmt = scalarOf((f as Expr)(row))
        return secs === undefined || fmt === null ? null : strftime(secs, str(fmt))
      },
  },
}

function regexArg(
  e: Expr,
  literal: string | undefined,
  ctx: CallContext,
): (row: Row) => LinearRegex | undefined {
  if (literal !== undefined) {
    try {
      const re = compileRegex(literal)
      return () => re
    } catch (err) {
      if (err instanceof RegexError) throw ctx.fail(`regex '${literal}': ${err.message}`)
      throw err
    }
  }
  const cache = new Map<string, LinearRegex | undefined>()
  return (row) => {
    const s = scalarOf(e(row))
    if (s === null) return undefined
    const src = str(s)
    if (!cache.has(src)) {
      let re: LinearRegex | undefined
      try {
        re = compileRegex(src)
      } catch {
        re = undefined
      }
      if (cache.size < 1000) cache.set(src, re)
      return re
    }
    return cache.get(src)
  }
}

/** `like`: `%` any run, `_` one character; compiled to an anchored linear regex. */
function likeExpr(a: Expr, p: Expr, literal?: string): Expr {
  const toRegex = (pattern: string) =>
    compileRegex(
      `^${[...pattern].map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'))).join('')}$`,
      's',
    )
  const fixed = literal !== undefined ? toRegex(literal) : undefined
  return (row) => {
    const v = scalarOf(a(row))
    const pat = fixed ? undefined : scalarOf(p(row))
    if (v === null || (!fixed && pat === null)) return null
    return (fixed ?? toRegex(str(pat as Scalar))).test(str(v))
  }
}

export function truthy(v: EvalValue): boolean {
  if (typeof v === 'boolean') return v
  return v !== null
}

function asValue(v: EvalValue): Value {
  return typeof v === 'boolean' ? String(v) : v
}

function scalarOf(v: EvalValue): Scalar | null {
  const x = asValue(v)
  return Array.isArray(x) ? (x[0] ?? null) : x
}

function concat(a: EvalValue, b: EvalValue): EvalValue {
  const x = scalarOf(a)
  const y = scalarOf(b)
  return x === null || y === null ? null : str(x) + str(y)
}

function plus(a: EvalValue, b: EvalValue): EvalValue {
  const x = scalarOf(a)
  const y = scalarOf(b)
  if (x === null || y === null) return null
  const nx = num(x)
  const ny = num(y)
  return nx !== undefined && ny !== undefined ? nx + ny : str(x) + str(y)
}

function arith(l: Expr, r: Expr, f: (a: number, b: number) => number): Expr {
  return (row) => {
    const a = num(scalarOf(l(row)))
    const b = num(scalarOf(r(row)))
    if (a === undefined || b === undefined) return null
    const n = f(a, b)
    return Number.isFinite(n) ? n : null
  }
}

// Numbers compare as numbers, anything else as case-sensitive strings; a multivalue holds if any value does.
function compare(op: string, l: Expr, r: Expr): Expr {
  return (row) => {
    const a = values(asValue(l(row)))
    const b = values(asValue(r(row)))
    if (a.length === 0 || b.length === 0) return false
    for (const x of a)
      for (const y of b) {
        const nx = num(x)
        const ny = num(y)
        const c =
          nx !== undefined && ny !== undefined ? nx - ny : str(x) < str(y) ? -1 : str(x) > str(y) ? 1 : 0
        if (test(op, c)) return true
      }
    return false
  }
}

function test(op: string, c: number): boolean {
  switch (op) {
    case '=':
    case '==':
      return c === 0
    case '!=':
      return c !== 0
    case '<':
      return c < 0
    case '>':
      return c > 0
    case '<=':
      return c <= 0
    default:
      return c >= 0
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const FULL_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const FULL_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

/** strftime in UTC (the harness has no user time zone): the common `%` codes; others print as written. */
export function strftime(secs: number, fmt: string): string {
  const d = new Date(secs * 1000)
  if (Number.isNaN(d.getTime())) return ''
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  const start = Date.UTC(d.getUTCFullYear(), 0, 1)
  return fmt.replace(/%(\d?)([a-zA-Z%])/g, (all, width: string, c: string) => {
    switch (c) {
      case 'Y':
        return String(d.getUTCFullYear())
      case 'y':
        return p(d.getUTCFullYear() % 100)
      case 'm':
        return p(d.getUTCMonth() + 1)
      case 'd':
        return p(d.getUTCDate())
      case 'e':
        return String(d.getUTCDate()).padStart(2, ' ')
      case 'H':
        return p(d.getUTCHours())
      case 'I':
        return p(d.getUTCHours() % 12 || 12)
      case 'p':
        return d.getUTCHours() < 12 ? 'AM' : 'PM'
      case 'M':
        return p(d.getUTCMinutes())
      case 'S':
        return p(d.getUTCSeconds())
      case 'N':
      case 'Q':
        return p(d.getUTCMilliseconds(), 3)
          .padEnd(Number(width || 3), '0')
          .slice(0, Number(width || 3))
      case 'b':
        return MONTHS[d.getUTCMonth()] as string
      case 'B':
        return FULL_MONTHS[d.getUTCMonth()] as string
      case 'a':
        return DAYS[d.getUTCDay()] as string
      case 'A':
        return FULL_DAYS[d.getUTCDay()] as string
      case 'j':
        return p(Math.floor((d.getTime() - start) / 86_400_000) + 1, 3)
      case 's':
        return String(Math.floor(secs))
      case 'T':
        return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
      case 'F':
        return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`
      case 'z':
        return '+0000'
      case 'Z':
        return 'UTC'
      case '%':
        return '%'
      default:
        return all
    }
  })
}
