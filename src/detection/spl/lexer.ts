import { type ErrorCode, ValidationError } from '../../errors.js'
import type { Pattern } from './ast.js'

export type TokenType = 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'pipe' | 'comma' | 'eof'

export interface Token {
  readonly type: TokenType
  /** Source text of the token. */
  readonly text: string
  /** Words and strings: the value with escapes resolved and `*` kept as a wildcard. */
  readonly pattern?: Pattern
  /** Strings: the content with escapes resolved and `*` as written, case kept (quoted field names). */
  readonly literal?: string
  readonly start: number
  readonly end: number
}

const OPERATORS = ['!=', '<=', '>=', '=', '<', '>'] as const

// Characters that end an unquoted word in operator position (`field=value`, `(a OR b)`).
const WORD_STOP = new Set([' ', '\t', '\r', '\n', '(', ')', '|', '"', '=', '<', '>', ','])

/**
 * Scans an SPL search string. Words are lexed context-free; values after an operator or inside an
 * `IN (…)` list are read with `readValue`, which allows `=`, `<`, `>` inside them (`uri=*a=b*`).
 */
export class SplLexer {
  private pos = 0
  private readonly lineStarts: number[] = [0]

  constructor(
    readonly src: string,
    readonly file: string,
  ) {
    for (let i = 0; i < src.length; i++) if (src[i] === '\n') this.lineStarts.push(i + 1)
  }

  /** Continues scanning at `offset` (the pipeline parser hands each `search` stage its own start). */
  seek(offset: number): void {
    this.pos = offset
  }

  next(): Token {
    this.skipSpace()
    const start = this.pos
    const c = this.src[start]
    if (c === undefined) return { type: 'eof', text: '', start, end: start }
    const single = { '(': 'lparen', ')': 'rparen', '|': 'pipe', ',': 'comma' } as const
    if (c in single) {
      this.pos++
      return { type: single[c as keyof typeof single], text: c, start, end: this.pos }
    }
    const op = OPERATORS.find((o) => this.src.startsWith(o, start))
    if (op) {
      this.pos += op.length
      return { type: 'op', text: op, start, end: this.pos }
    }
    if (c === '"') return this.quoted()
    return this.unquoted((ch, i) => WORD_STOP.has(ch) || (ch === '!' && this.src[i + 1] === '='))
  }

  /** Reads one value after an operator or inside `IN (…)`; `inList` also stops at commas. */
  readValue(inList: boolean): Token {
    this.skipSpace()
    const c = this.src[this.pos]
    if (c === '"') return this.quoted()
    if (c === undefined || c === ')' || c === '(' || c === '|' || (inList && c === ',')) {
      throw this.invalid('a value is missing here', this.pos)
    }
    return this.unquoted(
      (ch) => /\s/.test(ch) || ch === '(' || ch === ')' || ch === '|' || (inList && ch === ','),
    )
  }

  /** `line L, column C` (1-based) of a source offset. */
  position(offset: number): { line: number; column: number } {
    let line = this.lineStarts.length
    while (line > 1 && (this.lineStarts[line - 1] ?? 0) > offset) line--
    return { line, column: offset - (this.lineStarts[line - 1] ?? 0) + 1 }
  }

  unsupported(what: string, token: string, offset: number): ValidationError {
    return this.error('PURPLE_SPL_UNSUPPORTED', `${what} is not supported ('${clip(token)}')`, offset)
  }

  invalid(what: string, offset: number): ValidationError {
    return this.error('PURPLE_RULE_INVALID', `invalid SPL: ${what}`, offset)
  }

  /** One issue at `line:column` of the file (the file is named once, by the issue). */
  error(code: ErrorCode, message: string, offset: number): ValidationError {
    const { line, column } = this.position(offset)
    return splIssue(this.file, `${line}:${column}`, message, code)
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] ?? '')) this.pos++
  }

  // A double-quoted string: `\"`, `\\` and `\*` are escapes; other backslashes are literal.
  private quoted(): Token {
    const start = this.pos
    const b = new PatternBuilder()
    let literal = ''
    for (let i = start + 1; i < this.src.length; i++) {
      const ch = this.src[i] as string
      if (ch === '"') {
        this.pos = i + 1
        return {
          type: 'string',
          text: this.src.slice(start, this.pos),
          pattern: b.done(this.src.slice(start + 1, i)),
          literal,
          start,
          end: this.pos,
        }
      }
      const next = this.src[i + 1]
      if (ch === '\\' && next !== undefined && '"\\*'.includes(next)) {
        b.literal(this.src[++i] as string)
        literal += this.src[i]
      } else if (ch === '*') {
        b.wildcard()
        literal += ch
      } else {
        b.literal(ch)
        literal += ch
      }
    }
    throw this.invalid('unterminated quoted string', start)
  }

  // An unquoted run: a backslash makes the next character literal; `[` and backticks are refused.
  private unquoted(stop: (ch: string, i: number) => boolean): Token {
    const start = this.pos
    const b = new PatternBuilder()
    let i = start
    for (; i < this.src.length; i++) {
      const ch = this.src[i] as string
      if (stop(ch, i)) break
      if (ch === '[') throw this.unsupported('a subsearch', '[', i)
      if (ch === '`')
        throw this.unsupported('a macro', this.src.slice(i, this.src.indexOf('`', i + 1) + 1 || undefined), i)
      if (ch === '\\' && i + 1 < this.src.length) b.literal(this.src[++i] as string)
      else if (ch === '*') b.wildcard()
      else b.literal(ch)
    }
    this.pos = i
    const text = this.src.slice(start, i)
    return { type: 'word', text, pattern: b.done(text), start, end: i }
  }
}

class PatternBuilder {
  private readonly segments: string[] = ['']

  literal(ch: string): void {
    this.segments[this.segments.length - 1] += ch.toLowerCase()
  }

  wildcard(): void {
    this.segments.push('')
  }

  done(text: string): Pattern {
    return { segments: this.segments, text }
  }
}

export function splIssue(file: string, path: string, message: string, code: ErrorCode): ValidationError {
  const hint =
    code === 'PURPLE_SPL_UNSUPPORTED' ? ' (purplekind evaluates a subset of SPL: see docs/spl.md)' : ''
  return new ValidationError([{ file, path, message: message + hint, code }])
}

/** Values echoed in messages are cut short: a rule may hold megabytes. */
export function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`
}
