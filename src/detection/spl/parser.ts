import { SOURCETYPES } from '../../telemetry/event.js'
import { parseCidr } from '../sigma/cidr.js'
import { sourcesMatching } from './analyze.js'
import type { CompareOp, Pattern, SplNode } from './ast.js'
import { clip, SplLexer, type Token } from './lexer.js'

// Time modifiers and knowledge objects need a Splunk deployment behind them.
const UNSUPPORTED_FIELDS = new Set([
  'earliest',
  'latest',
  '_index_earliest',
  '_index_latest',
  'starttime',
  'endtime',
  'starttimeu',
  'endtimeu',
  'timeformat',
  'daysago',
  'hoursago',
  'minutesago',
  'monthsago',
  'searchtimespandays',
  'searchtimespanhours',
  'searchtimespanminutes',
  'searchtimespanmonths',
  'eventtype',
  'tag',
  'savedsearch',
  'savedsplunk',
])

const CIDR = /^[0-9a-f:.]*[:.][0-9a-f:.]*\/\d{1,3}$/i
/** Deepest nesting of parentheses and NOTs: deeper input would overflow the stack of later passes. */
export const MAX_SPL_DEPTH = 100
/** Longest search accepted (characters). */
export const MAX_SPL_LENGTH = 1 << 20

/**
 * Parses the supported SPL subset into one tree: the initial search and every `| search` stage,
 * AND-ed. In the search command OR binds tighter than AND (explicit or implied), and NOT tightest:
 * `a OR b c` is `(a OR b) AND c`.
 */
export function parseSearch(src: string, file: string): SplNode {
  const lexer = new SplLexer(src, file)
  if (src.length > MAX_SPL_LENGTH)
    throw lexer.invalid(`the search is longer than ${MAX_SPL_LENGTH} characters`, 0)
  return new SplParser(lexer).pipeline()
}

/**
 * Parses one `search` stage starting at `offset` (after `| search`, or the whole first stage): stops at
 * the next top-level pipe; `end` is that pipe's offset (or the search's length).
 */
export function parseStageAt(
  lexer: SplLexer,
  offset: number,
  first: boolean,
): { node: SplNode; end: number } {
  lexer.seek(offset)
  const parser = new SplParser(lexer)
  return parser.stageAt(first)
}

class SplParser {
  private readonly ahead: Token[] = []
  private depth = 0

  constructor(private readonly lx: SplLexer) {}

  pipeline(): SplNode {
    const first = this.peek()
    if (first.type === 'pipe') {
      throw this.lx.unsupported(
        'a search that starts with a command',
        clip(this.lx.src.trim(), 20),
        first.start,
      )
    }
    if (first.type === 'word' && first.text.toLowerCase() === 'search' && this.peek(1).type !== 'op')
      this.take()
    const stages = [this.stage()]
    while (this.peek().type === 'pipe') {
      const pipe = this.take()
      const command = this.take()
      if (command.type !== 'word' || command.text.toLowerCase() !== 'search') {
        throw this.lx.unsupported('a command other than `search`', `| ${command.text}`, pipe.start)
      }
      stages.push(this.stage())
    }
    const end = this.peek()
    if (end.type !== 'eof') throw this.lx.invalid(`unexpected '${clip(end.text)}'`, end.start)
    return stages.length === 1 ? (stages[0] as SplNode) : { kind: 'and', children: stages }
  }

  stageAt(first: boolean): { node: SplNode; end: number } {
    const t = this.peek()
    if (first && t.type === 'pipe') {
      throw this.lx.unsupported('a search that starts with a command', clip(this.lx.src.trim(), 20), t.start)
    }
    if (first && t.type === 'word' && t.text.toLowerCase() === 'search' && this.peek(1).type !== 'op')
      this.take()
    const node = this.stage()
    const end = this.peek()
    if (end.type !== 'eof' && end.type !== 'pipe')
      throw this.lx.invalid(`unexpected '${clip(end.text)}'`, end.start)
    return { node, end: end.start }
  }

  private stage(): SplNode {
    const node = this.conjunction()
    if (!node) {
      const t = this.peek()
      throw this.lx.invalid(
        t.type === 'eof' ? 'the search is empty' : `unexpected '${clip(t.text)}'`,
        t.start,
      )
    }
    return node
  }

  // Terms joined by AND or by juxtaposition, up to `)`, `|` or the end.
  private conjunction(): SplNode | undefined {
    const terms: SplNode[] = []
    for (;;) {
      const t = this.peek()
      if (t.type === 'eof' || t.type === 'pipe' || t.type === 'rparen') break
      if (isKeyword(t, 'AND')) {
        if (!terms.length) throw this.lx.invalid('AND needs a term before it', t.start)
        this.take()
      }
      terms.push(this.disjunction())
    }
    return terms.length <= 1 ? terms[0] : { kind: 'and', children: terms }
  }

  private disjunction(): SplNode {
    const terms = [this.negation()]
    while (isKeyword(this.peek(), 'OR')) {
      this.take()
      terms.push(this.negation())
    }
    return terms.length === 1 ? (terms[0] as SplNode) : { kind: 'or', children: terms }
  }

  private negation(): SplNode {
    if (!isKeyword(this.peek(), 'NOT')) return this.primary()
    const not = this.take()
    this.enter(not)
    const child = this.negation()
    this.depth--
    return { kind: 'not', child }
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_SPL_DEPTH) {
      throw this.lx.invalid(`parentheses and NOTs nested deeper than ${MAX_SPL_DEPTH}`, t.start)
    }
  }

  private primary(): SplNode {
    const t = this.take()
    if (t.type === 'lparen') {
      this.enter(t)
      const inner = this.conjunction()
      const close = this.take()
      if (!inner) throw this.lx.invalid('empty parentheses', t.start)
      if (close.type !== 'rparen') throw this.lx.invalid("missing ')'", close.start)
      this.depth--
      return inner
    }
    if (t.type === 'string') return this.stringTerm(t)
    if (t.type !== 'word' || isKeyword(t, 'AND') || isKeyword(t, 'OR')) {
      throw this.lx.invalid(
        t.type === 'eof' ? 'a term is missing at the end' : `unexpected '${clip(t.text)}'`,
        t.start,
      )
    }
    const next = this.peek()
    if (next.type === 'op') return this.comparison(t)
    if (isKeyword(next, 'IN') && this.peek(1).type === 'lparen') return this.inList(t)
    if (next.type === 'lparen' && next.start === t.end) {
      throw this.lx.unsupported('a search function', `${t.text}(`, t.start)
    }
    if (t.text.includes('::')) throw this.lx.unsupported('indexed-field (`::`) syntax', t.text, t.start)
    return { kind: 'keyword', value: t.pattern as Pattern }
  }

  // A quoted string is a keyword, or a field name before an operator or IN (`"c-useragent"=…`).
  private stringTerm(t: Token): SplNode {
    const next = this.peek()
    const isField = next.type === 'op' || (isKeyword(next, 'IN') && this.peek(1).type === 'lparen')
    if (!isField) return { kind: 'keyword', value: t.pattern as Pattern }
    const name = t.literal as string
    if (name === '' || (t.pattern as Pattern).segments.length > 1) {
      throw this.lx.invalid('a quoted field name must be non-empty and without wildcards', t.start)
    }
    const field = { ...t, text: name }
    return next.type === 'op' ? this.comparison(field) : this.inList(field)
  }

  private comparison(fieldTok: Token): SplNode {
    const field = this.fieldName(fieldTok)
    const op = this.take().text as CompareOp
    const valueTok = this.lx.readValue(false)
    const value = this.value(valueTok, field)
    if (op !== '=' && op !== '!=') {
      if (valueTok.type !== 'word' || !Number.isFinite(Number(valueTok.text))) {
        throw this.lx.unsupported(`'${op}' on a non-numeric value`, valueTok.text, valueTok.start)
      }
    }
    return { kind: 'compare', field, op, value }
  }

  private inList(fieldTok: Token): SplNode {
    const field = this.fieldName(fieldTok)
    this.take()
    const open = this.take()
    const values: Pattern[] = []
    for (;;) {
      values.push(this.value(this.lx.readValue(true), field))
      const sep = this.take()
      if (sep.type === 'rparen') break
      if (sep.type === 'comma') continue
      throw this.lx.invalid(
        `expected ',' or ')' in the IN list opened at column ${this.lx.position(open.start).column}`,
        sep.start,
      )
    }
    return { kind: 'in', field, values }
  }

  private fieldName(t: Token): string {
    if (UNSUPPORTED_FIELDS.has(t.text.toLowerCase())) {
      throw this.lx.unsupported(`the '${t.text}' modifier`, t.text, t.start)
    }
    if (t.text.includes('::')) throw this.lx.unsupported('indexed-field (`::`) syntax', t.text, t.start)
    return t.text
  }

  private value(t: Token, field: string): Pattern {
    const pattern = t.pattern as Pattern
    if (t.type === 'word' && pattern.text.startsWith('=')) {
      throw this.lx.unsupported("the '==' operator", '==', t.start - 1)
    }
    // Like Splunk, a value in CIDR notation matches the addresses of that network.
    if (pattern.segments.length === 1 && CIDR.test(pattern.text)) {
      if (!parseCidr(pattern.text)) throw this.lx.invalid(`invalid CIDR '${clip(pattern.text)}'`, t.start)
      return { ...pattern, cidr: true }
    }
    // A sourcetype no source produces would leave the rule silently dead: refuse it instead.
    if (field === 'sourcetype' && sourcesMatching(pattern).length === 0) {
      const known = Object.values(SOURCETYPES).join(', ')
      throw this.lx.unsupported(
        `a sourcetype no purplekind source produces (known: ${known})`,
        t.text,
        t.start,
      )
    }
    return pattern
  }

  private peek(n = 0): Token {
    while (this.ahead.length <= n) this.ahead.push(this.lx.next())
    return this.ahead[n] as Token
  }

  private take(): Token {
    return this.ahead.shift() ?? this.lx.next()
  }
}

// Boolean operators are keywords only when written in capitals, as in Splunk.
function isKeyword(t: Token, word: 'AND' | 'OR' | 'NOT' | 'IN'): boolean {
  return t.type === 'word' && t.text === word
}
