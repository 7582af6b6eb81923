// A regular-expression matcher that runs in time linear in the subject (O(subject × pattern)): the
// pattern compiles to a Thompson NFA whose states are all followed at once, so nothing backtracks and
// attacker-written values (user agents, command lines) cannot make a rule take exponential time.
// Syntax: PCRE as Sigma uses it, minus what needs backtracking (backreferences, lookaround, atomic
// groups, possessive quantifiers, conditionals), which is refused with a RegexError. Semantics follow
// PCRE: `.` excludes only `\n` (all characters with `s`), `$` also matches before a final `\n`,
// `\w`/`\d`/`\s`/`\b` are ASCII, `i` folds case, `m` makes `^`/`$` match at line breaks.

export class RegexError extends Error {}

/** Largest compiled program (NFA instructions): bounds memory and the per-character cost. */
export const MAX_PROGRAM = 20_000
const MAX_REPEAT = 1000
const MAX_DEPTH = 200

interface Flags {
  i: boolean
  m: boolean
  s: boolean
  x: boolean
}

/** A character set: sorted inclusive code point ranges, possibly negated. */
interface CharSet {
  ranges: number[] // [lo0, hi0, lo1, hi1, …]
  negated: boolean
  fold: boolean
}

type Assertion = 'bol' | 'eol' | 'start' | 'end' | 'endnl' | 'word' | 'nonword'

type Node =
  | { t: 'set'; set: CharSet }
  | { t: 'assert'; a: Assertion }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; item: Node; min: number; max: number } // max = Infinity for unbounded

const DIGIT = [0x30, 0x39]
const WORD = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a]
const SPACE = [0x09, 0x0d, 0x20, 0x20] // \t \n \v \f \r and space
const NEWLINE = 0x0a

const set = (ranges: number[], negated = false, fold = false): CharSet => ({ ranges, negated, fold })

class Parser {
  pos = 0
  depth = 0
  constructor(
    readonly src: string,
    public flags: Flags,
  ) {}

  fail(what: string, at = this.pos): never {
    throw new RegexError(`${what} at position ${at + 1}`)
  }

  parse(): Node {
    const node = this.alternation()
    if (this.pos < this.src.length) this.fail(`unmatched ')'`)
    return node
  }

  alternation(): Node {
    const items = [this.sequence()]
    while (this.src[this.pos] === '|') {
      this.pos++
      items.push(this.sequence())
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items }
  }

  sequence(): Node {
    const items: Node[] = []
    for (;;) {
      const c = this.src[this.pos]
      if (c === undefined || c === '|' || c === ')') break
      if (this.flags.x && this.skipExtended()) continue
      const atom = this.atom()
      if (atom) items.push(this.quantified(atom))
    }
    return items.length === 1 ? items[0]! : { t: 'cat', items }
  }

  /** `x` flag: whitespace and `#` comments outside classes are ignored. */
  skipExtended(): boolean {
    const c = this.src[this.pos]!
    if (/\s/.test(c)) {
      this.pos++
      return true
    }
    if (c === '#') {
      while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++
      return true
    }
    return false
  }

  quantified(atom: Node): Node {
    let node = atom
    for (;;) {
      const c = this.src[this.pos]
      let min: number
      let max: number
      const start = this.pos
      if (c === '*' || c === '+' || c === '?') {
        this.pos++
        ;[min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1]
      } else if (c === '{') {
        const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 24))
        if (!m || (m[1] === '' && m[3] === undefined) || (m[1] === '' && m[2] === undefined)) return node
        if (m[1] === '' && m[3] === '') return node // `{,}` is literal in PCRE
        this.pos += m[0].length
        min = m[1] === '' ? 0 : Number(m[1])
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3])
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
          this.fail(`repetition count above ${MAX_REPEAT}`, start)
        }
        if (max < min) this.fail('repetition range out of order', start)
      } else return node
      if (node.t === 'assert') this.fail('a quantifier after an anchor', start)
      if (this.src[this.pos] === '+') this.fail('possessive quantifiers are not supported')
      if (this.src[this.pos] === '?') this.pos++ // lazy: the same set of matches for a yes/no test
      node = { t: 'rep', item: node, min, max }
    }
  }

  atom(): Node | undefined {
    const c = this.src[this.pos]!
    const start = this.pos
    this.pos++
    switch (c) {
      case '(':
        return this.group(start)
      case '[':
        return { t: 'set', set: this.charClass() }
      case '.':
        return { t: 'set', set: this.flags.s ? set([0, 0x10ffff]) : set([NEWLINE, NEWLINE], true) }
      case '^':
        return { t: 'assert', a: this.flags.m ? 'bol' : 'start' }
      case '$':
        return { t: 'assert', a: this.flags.m ? 'eol' : 'endnl' }
      case '\\':
        return this.escape(false) as Node
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat', start)
      default: {
        this.pos = start
        const cp = this.src.codePointAt(this.pos)!
        this.pos += cp > 0xffff ? 2 : 1
        return this.literal(cp)
      }
    }
  }

  literal(cp: number): Node {
    return { t: 'set', set: set([cp, cp], false, this.flags.i) }
  }

  group(start: number): Node | undefined {
    if (++this.depth > MAX_DEPTH) this.fail(`groups nested deeper than ${MAX_DEPTH}`, start)
    const saved = this.flags
    if (this.src[this.pos] === '?') {
      const rest = this.src.slice(this.pos + 1, this.pos + 4)
      const named = /^(?:P?<(?![=!])|')/.exec(rest)
      if (named) {
        const close = this.src.indexOf(named[0].endsWith("'") ? "'" : '>', this.pos + 1 + named[0].length)
        if (close < 0) this.fail('unterminated group name', start)
        this.pos = close + 1
      } else if (rest[0] === ':') this.pos += 2
      else if (rest[0] === '=' || rest[0] === '!' || rest.startsWith('<=') || rest.startsWith('<!')) {
        this.fail('lookahead and lookbehind are not supported', start)
      } else if (rest[0] === '>') this.fail('atomic groups are not supported', start)
      else if (rest[0] === '(') this.fail('conditional groups are not supported', start)
      else if (rest.startsWith('P=') || rest.startsWith('P>'))
        this.fail('backreferences are not supported', start)
      else {
        // Inline flags: `(?i)` applies to the rest of the enclosing group, `(?i:…)` to its own body.
        const m = /^\?([imsx]*)(?:-([imsx]*))?([:)])/.exec(this.src.slice(this.pos))
        if (!m) this.fail('unsupported group syntax', start)
        const flags = { ...this.flags }
        for (const f of m[1] ?? '') flags[f as keyof Flags] = true
        for (const f of m[2] ?? '') flags[f as keyof Flags] = false
        this.pos += m[0].length
        this.depth--
        if (m[3] === ')') {
          this.flags = flags
          return undefined
        }
        this.depth++
        this.flags = flags
      }
    }
    const node = this.alternation()
    if (this.src[this.pos] !== ')') this.fail("missing ')'", start)
    this.pos++
    this.flags = saved
    this.depth--
    return node
  }

  /** After a backslash; inside a class only single characters and class escapes are allowed. */
  escape(inClass: boolean): Node | CharSet | number {
    const c = this.src[this.pos]
    if (c === undefined) this.fail('trailing backslash')
    this.pos++
    switch (c) {
      case 'd':
        return this.wrap(set(DIGIT), inClass)
      case 'D':
        return this.wrap(set(DIGIT, true), inClass)
      case 'w':
        return this.wrap(set(WORD), inClass)
      case 'W':
        return this.wrap(set(WORD, true), inClass)
      case 's':
        return this.wrap(set(SPACE), inClass)
      case 'S':
        return this.wrap(set(SPACE, true), inClass)
      case 'n':
        return this.char(0x0a, inClass)
      case 'r':
        return this.char(0x0d, inClass)
      case 't':
        return this.char(0x09, inClass)
      case 'f':
        return this.char(0x0c, inClass)
      case 'v':
        return this.char(0x0b, inClass)
      case 'e':
        return this.char(0x1b, inClass)
      case 'a':
        return this.char(0x07, inClass)
      case '0':
        return this.char(this.octal(), inClass)
      case 'x':
        return this.char(this.hex(), inClass)
      case 'u':
        return this.char(this.hexDigits(4), inClass)
    }
    if (!inClass) {
      const anchors: Record<string, Assertion> = { b: 'word', B: 'nonword', A: 'start', z: 'end', Z: 'endnl' }
      const a = anchors[c]
      if (a) return { t: 'assert', a }
      if (c === 'G') this.fail('\\G is not supported', this.pos - 2)
    } else if (c === 'b') return 0x08
    if (/[1-9]/.test(c) || c === 'k' || c === 'g') this.fail('backreferences are not supported', this.pos - 2)
    if (/[pPXRhHVNKCQEcL]/.test(c) || (/[A-Za-z]/.test(c) && !inClass)) {
      this.fail(`unsupported escape '\\${c}'`, this.pos - 2)
    }
    if (/[A-Za-z]/.test(c)) this.fail(`unsupported escape '\\${c}'`, this.pos - 2)
    this.pos--
    const cp = this.src.codePointAt(this.pos)!
    this.pos += cp > 0xffff ? 2 : 1
    return this.char(cp, inClass)
  }

  wrap(s: CharSet, inClass: boolean): Node | CharSet {
    return inClass ? s : { t: 'set', set: s }
  }

  char(cp: number, inClass: boolean): Node | number {
    return inClass ? cp : this.literal(cp)
  }

  octal(): number {
    const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))!
    this.pos += m[0].length
    return Number.parseInt(`0${m[0]}`, 8)
  }

  hex(): number {
    if (this.src[this.pos] === '{') {
      const close = this.src.indexOf('}', this.pos)
      const digits = close < 0 ? '' : this.src.slice(this.pos + 1, close)
      if (!/^[0-9a-fA-F]{1,6}$/.test(digits) || Number.parseInt(digits, 16) > 0x10ffff)
        this.fail('bad \\x{…}')
      this.pos = close + 1
      return Number.parseInt(digits, 16)
    }
    return this.hexDigits(2)
  }

  hexDigits(n: number): number {
    const digits = this.src.slice(this.pos, this.pos + n)
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) this.fail('bad hexadecimal escape')
    this.pos += n
    return Number.parseInt(digits, 16)
  }

  charClass(): CharSet {
    const start = this.pos - 1
    let negated = false
    if (this.src[this.pos] === '^') {
      negated = true
      this.pos++
    }
    const ranges: number[] = []
    const subsets: CharSet[] = []
    let first = true
    for (;;) {
      const c = this.src[this.pos]
      if (c === undefined) this.fail("missing ']'", start)
      if (c === ']' && !first) {
        this.pos++
        break
      }
      first = false
      if (c === '[' && /^\[[:=.]/.test(this.src.slice(this.pos, this.pos + 2))) {
        this.fail('POSIX classes ([:alpha:]) are not supported')
      }
      const lo = this.classAtom()
      if (typeof lo !== 'number') {
        subsets.push(lo)
        continue
      }
      if (
        this.src[this.pos] === '-' &&
        this.src[this.pos + 1] !== ']' &&
        this.src[this.pos + 1] !== undefined
      ) {
        this.pos++
        const hi = this.classAtom()
        if (typeof hi !== 'number') this.fail('a class escape cannot end a range')
        if (hi < lo) this.fail('range out of order in character class')
        ranges.push(lo, hi)
      } else ranges.push(lo, lo)
    }
    // Class escapes (\d, \W…) are merged in as explicit ranges.
    for (const s of subsets) ranges.push(...(s.negated ? complement(s.ranges) : s.ranges))
    return set(normalize(ranges), negated, this.flags.i)
  }

  classAtom(): number | CharSet {
    const c = this.src[this.pos]!
    if (c === '\\') {
      this.pos++
      return this.escape(true) as number | CharSet
    }
    const cp = this.src.codePointAt(this.pos)!
    this.pos += cp > 0xffff ? 2 : 1
    return cp
  }
}

function normalize(ranges: number[]): number[] {
  const pairs: [number, number][] = []
  for (let k = 0; k < ranges.length; k += 2) pairs.push([ranges[k]!, ranges[k + 1]!])
  pairs.sort((a, b) => a[0] - b[0])
  const out: number[] = []
  for (const [lo, hi] of pairs) {
    if (out.length && lo <= out[out.length - 1]! + 1) out[out.length - 1] = Math.max(out[out.length - 1]!, hi)
    else out.push(lo, hi)
  }
  return out
}

function complement(ranges: number[]): number[] {
  const sorted = normalize(ranges)
  const out: number[] = []
  let next = 0
  for (let k = 0; k < sorted.length; k += 2) {
    if (sorted[k]! > next) out.push(next, sorted[k]! - 1)
    next = sorted[k + 1]! + 1
  }
  if (next <= 0x10ffff) out.push(next, 0x10ffff)
  return out
}

// --- program ---------------------------------------------------------------------------------------

const CHAR = 0
const SPLIT = 1
const JMP = 2
const ASSERT = 3
const MATCH = 4

interface Inst {
  op: number
  /** CHAR: the set's test; ASSERT: the assertion. */
  test?: (cp: number) => boolean
  a?: Assertion
  x: number
  y: number
}

function setTest(s: CharSet): (cp: number) => boolean {
  const r = Int32Array.from(s.ranges)
  const inRanges = (cp: number): boolean => {
    for (let k = 0; k < r.length; k += 2) {
      if (cp < r[k]!) return false
      if (cp <= r[k + 1]!) return true
    }
    return false
  }
  const has = s.fold ? (cp: number) => inRanges(cp) || inRanges(otherCase(cp)) : inRanges
  // ASCII membership as a table: almost every subject character is ASCII.
  const ascii = new Uint8Array(128)
  for (let cp = 0; cp < 128; cp++) ascii[cp] = has(cp) !== s.negated ? 1 : 0
  const negated = s.negated
  return (cp) => (cp < 128 ? ascii[cp] === 1 : has(cp) !== negated)
}

function otherCase(cp: number): number {
  if (cp >= 0x41 && cp <= 0x5a) return cp + 0x20
  if (cp >= 0x61 && cp <= 0x7a) return cp - 0x20
  if (cp < 128) return cp
  const ch = String.fromCodePoint(cp)
  const lower = ch.toLowerCase()
  const other = lower === ch ? ch.toUpperCase() : lower
  return other.length === ch.length ? other.codePointAt(0)! : cp
}

class Compiler {
  readonly prog: Inst[] = []

  emit(inst: Inst): number {
    if (this.prog.length >= MAX_PROGRAM) {
      throw new RegexError(`pattern too large (over ${MAX_PROGRAM} states once repetitions are expanded)`)
    }
    this.prog.push(inst)
    return this.prog.length - 1
  }

  node(n: Node): void {
    switch (n.t) {
      case 'set':
        this.emit({ op: CHAR, test: setTest(n.set), x: this.prog.length + 1, y: 0 })
        return
      case 'assert':
        this.emit({ op: ASSERT, a: n.a, x: this.prog.length + 1, y: 0 })
        return
      case 'cat':
        for (const item of n.items) this.node(item)
        return
      case 'alt': {
        // split L1, next; L1: a; jmp end; next: split L2, … ; last alternative falls through.
        const jumps: number[] = []
        n.items.forEach((item, k) => {
          if (k < n.items.length - 1) {
            const split = this.emit({ op: SPLIT, x: this.prog.length + 1, y: 0 })
            this.node(item)
            jumps.push(this.emit({ op: JMP, x: 0, y: 0 }))
            this.prog[split]!.y = this.prog.length
          } else this.node(item)
        })
        for (const j of jumps) this.prog[j]!.x = this.prog.length
        return
      }
      case 'rep': {
        for (let k = 0; k < n.min; k++) this.node(n.item)
        if (n.max === Infinity) {
          const split = this.emit({ op: SPLIT, x: this.prog.length + 1, y: 0 })
          this.node(n.item)
          this.emit({ op: JMP, x: split, y: 0 })
          this.prog[split]!.y = this.prog.length
        } else {
          const splits: number[] = []
          for (let k = n.min; k < n.max; k++) {
            splits.push(this.emit({ op: SPLIT, x: this.prog.length + 1, y: 0 }))
            this.node(n.item)
          }
          for (const s of splits) this.prog[s]!.y = this.prog.length
        }
        return
      }
    }
  }
}

const isWord = (cp: number): boolean =>
  (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || cp === 0x5f || (cp >= 0x61 && cp <= 0x7a)

/** A compiled pattern; `test` answers whether it matches anywhere in the subject. */
export interface LinearRegex {
  test(subject: string): boolean
}

/** Compiles `source` with flags from `imsx`; throws RegexError for unsupported or invalid syntax. */
export function compileRegex(source: string, flags = ''): LinearRegex {
  const f: Flags = { i: false, m: false, s: false, x: false }
  for (const c of flags) {
    if (!(c in f)) throw new RegexError(`unknown flag '${c}'`)
    f[c as keyof Flags] = true
  }
  const tree = new Parser(source, f).parse()
  const compiler = new Compiler()
  compiler.node(tree)
  compiler.emit({ op: MATCH, x: 0, y: 0 })
  return new Program(compiler.prog, anchoredAtStart(tree))
}

function anchoredAtStart(n: Node): boolean {
  if (n.t === 'assert') return n.a === 'start'
  if (n.t === 'cat') return n.items.length > 0 && anchoredAtStart(n.items[0]!)
  if (n.t === 'alt') return n.items.every(anchoredAtStart)
  return false
}

class Program implements LinearRegex {
  readonly #op: Uint8Array
  readonly #x: Int32Array
  readonly #y: Int32Array
  readonly #tests: ((cp: number) => boolean)[]
  readonly #asserts: (Assertion | undefined)[]
  readonly #anchored: boolean
  // Scratch: two thread lists, a visited mark per instruction, and a stack for epsilon closures.
  readonly #lists: [Int32Array, Int32Array]
  readonly #mark: Uint32Array
  readonly #stack: Int32Array
  #gen = 0

  constructor(prog: Inst[], anchored: boolean) {
    const n = prog.length
    this.#op = Uint8Array.from(prog, (i) => i.op)
    this.#x = Int32Array.from(prog, (i) => i.x)
    this.#y = Int32Array.from(prog, (i) => i.y)
    this.#tests = prog.map((i) => i.test ?? (() => false))
    this.#asserts = prog.map((i) => i.a)
    this.#anchored = anchored
    this.#lists = [new Int32Array(n), new Int32Array(n)]
    this.#mark = new Uint32Array(n)
    this.#stack = new Int32Array(2 * n + 2)
  }

  test(s: string): boolean {
    let cur = this.#lists[0]
    let next = this.#lists[1]
    let count = 0
    const len = s.length
    let prev = -1 // code point before `pos`, -1 at the start
    // One generation per position: closures at a position see the same assertion context.
    let gen = this.#nextGen()
    for (let pos = 0; ; ) {
      const cp = pos < len ? s.codePointAt(pos)! : -1
      if (pos === 0 || !this.#anchored) {
        count = this.#closure(0, cur, count, gen, s, pos, prev, cp)
        if (count < 0) return true
      }
      if (cp === -1 || (count === 0 && this.#anchored)) return false
      gen = this.#nextGen()
      const step = cp > 0xffff ? 2 : 1
      const after = pos + step < len ? s.codePointAt(pos + step)! : -1
      let nextCount = 0
      for (let k = 0; k < count; k++) {
        const pc = cur[k]!
        if (this.#tests[pc]!(cp)) {
          nextCount = this.#closure(this.#x[pc]!, next, nextCount, gen, s, pos + step, cp, after)
          if (nextCount < 0) return true
        }
      }
      const t = cur
      cur = next
      next = t
      count = nextCount
      prev = cp
      pos += step
    }
  }

  #nextGen(): number {
    if (++this.#gen === 0xffffffff) {
      this.#mark.fill(0)
      this.#gen = 1
    }
    return this.#gen
  }

  /**
   * Adds `start` and everything reachable from it without consuming a character to `list` (CHAR
   * instructions only); returns the new count, or -1 when MATCH is reachable.
   */
  #closure(
    start: number,
    list: Int32Array,
    count: number,
    gen: number,
    s: string,
    pos: number,
    prev: number,
    cp: number,
  ): number {
    const stack = this.#stack
    const mark = this.#mark
    let top = 0
    stack[top++] = start
    while (top > 0) {
      const pc = stack[--top]!
      if (mark[pc] === gen) continue
      mark[pc] = gen
      switch (this.#op[pc]) {
        case CHAR:
          list[count++] = pc
          break
        case MATCH:
          return -1
        case JMP:
          stack[top++] = this.#x[pc]!
          break
        case SPLIT:
          // Order does not matter for a yes/no answer.
          stack[top++] = this.#y[pc]!
          stack[top++] = this.#x[pc]!
          break
        case ASSERT:
          if (holds(this.#asserts[pc]!, s, pos, prev, cp)) stack[top++] = this.#x[pc]!
          break
      }
    }
    return count
  }
}

function holds(a: Assertion, s: string, pos: number, prev: number, cp: number): boolean {
  switch (a) {
    case 'start':
      return pos === 0
    case 'end':
      return cp === -1
    case 'endnl':
      return cp === -1 || (cp === NEWLINE && pos === s.length - 1)
    case 'bol':
      return pos === 0 || prev === NEWLINE
    case 'eol':
      return cp === -1 || cp === NEWLINE
    case 'word':
      return isWord(prev) !== isWord(cp)
    case 'nonword':
      return isWord(prev) === isWord(cp)
  }
}
