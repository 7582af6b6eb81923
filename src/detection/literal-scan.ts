// The engine's multi-literal scanner: which of a set of literals occur, case-insensitively (ASCII), in
// raw UTF-8 lines. An Aho-Corasick automaton over byte classes, built here as a dense DFA table; the
// scan itself runs in WebAssembly (wasm/literal-scan.ts, four interleaved streams over a block of
// lines). Measured on the bench's 1 KB audit lines with ~100 literals: ~0.9 ns per byte with the copy in
// and the newline pass, ~2x the same automaton's scan in V8-compiled JavaScript (two interleaved streams).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { PurpleError } from '../errors.js'

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/

/** Largest DFA table built (states x classes x 4 bytes); a larger literal set is not prefiltered. */
export const MAX_TABLE_BYTES = 32 << 20

/** Where the WebAssembly scan expects the table: after the class map at address 0 (256 u16 at most). */
const TABLE_AT = 512

/** The table and class map, laid out for the WebAssembly scan. */
interface Automaton {
  /** i32 per (state, class): the next state's row address (TABLE_AT + state * rowBytes), bit 0 set when it accepts. */
  readonly table: Int32Array
  /** Per byte value: its class * 4; u8 while that fits (up to 64 classes), else u16 (`scanWide`). */
  readonly classes: Uint8Array | Uint16Array
  /** Row size in bytes (classes * 4): (a row address - TABLE_AT) / rowBytes is the state. */
  readonly rowBytes: number
  /** Literal ids ending at each state (its own and via failure links), as CSR: ids[from[s]..from[s+1]). */
  readonly outFrom: Int32Array
  readonly outIds: Int32Array
}

export class LiteralScanner {
  /** The literals, lower-cased, by id. */
  readonly literals: readonly string[]
  readonly #automaton: Automaton
  readonly #block: ScanMemory

  /** Throws PURPLE_INTERNAL for a literal that is not printable ASCII or a table over MAX_TABLE_BYTES. */
  constructor(literals: readonly string[]) {
    for (const literal of literals) {
      if (!PRINTABLE_ASCII.test(literal)) {
        throw new PurpleError('PURPLE_INTERNAL', `prefilter literal must be printable ASCII: '${literal}'`)
      }
    }
    this.literals = literals.map((l) => l.toLowerCase())
    if (!LiteralScanner.fits(this.literals)) {
      throw new PurpleError('PURPLE_INTERNAL', `prefilter table over ${MAX_TABLE_BYTES} bytes`)
    }
    this.#automaton = buildAutomaton(this.literals)
    this.#block = new ScanMemory(
      this.#automaton,
      this.literals.reduce((n, l) => Math.max(n, l.length), 0),
    )
  }

  /** Whether a literal set would fit the table limit (callers skip prefiltering when it would not). */
  static fits(literals: readonly string[]): boolean {
    const classes = new Set(literals.join('').toLowerCase()).size + 1
    const states = 1 + literals.reduce((n, l) => n + l.length, 0)
    return states * classes * 4 <= MAX_TABLE_BYTES
  }

  /**
   * Scans `bytes[start, end)`, which must hold whole lines (a literal never spans a newline), and keeps
   * its matches for `positions` and `mark`; returns how many there are. The previous scan's are dropped.
   */
  scan(bytes: Uint8Array, start: number, end: number): number {
    return this.#block.scan(bytes, start, end)
  }

  /**
   * `scan`, plus the position of every newline in `bytes[start, end)` (`newlines`, in order): the caller
   * then walks lines without looking for their ends itself. Returns the number of matches.
   */
  scanLines(bytes: Uint8Array, start: number, end: number): number {
    return this.#block.scan(bytes, start, end, true)
  }

  /** Newlines found by the last `scanLines`, as indexes into its `bytes`. */
  get newlines(): Int32Array {
    return this.#block.newlines.subarray(0, this.#block.newlineCount)
  }

  /** Per match of the last scan, in order: its last byte, as an index into the scanned `bytes`. */
  get positions(): Int32Array {
    return this.#block.positions
  }

  /**
   * Sets `seen[id] = stamp` for each literal ending at the k-th match and appends the newly seen ones to
   * `found` from index `count` (room for every literal: each is new once per stamp); returns the count.
   */
  mark(k: number, seen: Uint32Array, stamp: number, found: Int32Array, count: number): number {
    const { outFrom, outIds, rowBytes } = this.#automaton
    const state = (this.#block.states[k]! - TABLE_AT) / rowBytes
    for (let j = outFrom[state]!; j < outFrom[state + 1]!; j++) {
      const id = outIds[j]!
      if (seen[id] === stamp) continue
      seen[id] = stamp
      found[count++] = id
    }
    return count
  }

  /**
   * The keys of the line `bytes[start, end)` of the last scan (wasm/literal-scan.ts `keys`) whose length
   * is in `lengths` (all under 64): returns how many (or -1: any key written with an escape, or unbalanced
   * brackets); `keys` then holds per key its opening quote (as an index into the line), length and depth.
   */
  keysOf(start: number, end: number, lengths: KeyLengths): number {
    return this.#block.keysOf(start, end, lengths)
  }

  /** The triples written by the last `keysOf`. */
  get keys(): Int32Array {
    return this.#block.keys
  }

  /**
   * A buffer of at least `size` bytes in the scanner's own memory: blocks read into it are scanned
   * where they are, not copied in first. Valid until a block larger than it is scanned.
   */
  inputBuffer(size: number): Buffer {
    return this.#block.inputBuffer(size)
  }

  /** The literals occurring in `text` (tests and one-off checks). */
  find(text: string | Uint8Array): Set<string> {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text
    const seen = new Uint32Array(this.literals.length)
    const found = new Int32Array(this.literals.length)
    let n = 0
    const count = this.scan(bytes, 0, bytes.length)
    for (let k = 0; k < count; k++) n = this.mark(k, seen, 1, found, n)
    return new Set([...found.subarray(0, n)].map((id) => this.literals[id]!))
  }
}

/** A set of key lengths under 64, as the two halves of a bit mask. */
export interface KeyLengths {
  readonly lo: number
  readonly hi: number
}

export function keyLengths(lengths: Iterable<number>): KeyLengths {
  let lo = 0
  let hi = 0
  for (const n of lengths) {
    if (!Number.isInteger(n) || n < 0 || n >= 64) throw new PurpleError('PURPLE_INTERNAL', `key length ${n}`)
    if (n < 32) lo |= 1 << n
    else hi |= 1 << (n - 32)
  }
  return { lo: lo >>> 0, hi: hi >>> 0 }
}

const WASM = new URL('../../dist/wasm/literal-scan.wasm', import.meta.url)
let wasmModule: WebAssembly.Module | undefined

/** Compiled once per process; `npm run build` produces it (vitest's setup builds it when missing). */
function scanModule(): WebAssembly.Module {
  if (wasmModule) return wasmModule
  let bytes: Buffer
  try {
    bytes = readFileSync(fileURLToPath(WASM))
  } catch {
    throw new PurpleError('PURPLE_ASSETS_MISSING', `${fileURLToPath(WASM)} is missing`, {
      hint: 'run `npm run build` (it compiles wasm/literal-scan.ts)',
    })
  }
  wasmModule = new WebAssembly.Module(bytes)
  return wasmModule
}

/** wasm/literal-scan.ts `scan`/`scanWide`: addresses in its memory, except `base` (added to positions). */
type ScanFunction = (
  start: number,
  input: number,
  length: number,
  positions: number,
  states: number,
  base: number,
  warm: number,
) => number

/** wasm/literal-scan.ts `newlines(input, length, out, base)`. */
type NewlinesFunction = (input: number, length: number, out: number, base: number) => number

/** wasm/literal-scan.ts `keys(input, length, out, lengths lo, lengths hi)`. */
type KeysFunction = (input: number, length: number, out: number, lo: number, hi: number) => number

const PAGE = 1 << 16
const INITIAL_BLOCK = 1 << 16

/**
 * One instance's memory: [class map | table | input block | match positions | match states | newlines |
 * keys].
 */
class ScanMemory {
  readonly #memory: WebAssembly.Memory
  readonly #scan: ScanFunction
  readonly #inputAt: number
  #capacity = 0
  #input!: Uint8Array
  positions!: Int32Array
  states!: Int32Array
  newlines!: Int32Array
  newlineCount = 0
  keys!: Int32Array
  readonly #newlines: NewlinesFunction
  readonly #keys: KeysFunction
  /** Where the last scanned block started in the caller's bytes and in this memory, and its length. */
  #base = 0
  #at = 0
  #length = 0
  #view: Buffer | undefined
  /** The longest literal's length: how far ahead of its segment each parallel scan starts. */
  readonly #warm: number

  constructor(automaton: Automaton, longest: number) {
    this.#warm = longest
    this.#inputAt = TABLE_AT + automaton.table.byteLength
    this.#memory = new WebAssembly.Memory({ initial: Math.ceil(this.#inputAt / PAGE) })
    const instance = new WebAssembly.Instance(scanModule(), { env: { memory: this.#memory } })
    const wide = automaton.classes instanceof Uint16Array
    this.#scan = (wide ? instance.exports.scanWide : instance.exports.scan) as ScanFunction
    this.#newlines = instance.exports.newlines as NewlinesFunction
    this.#keys = instance.exports.keys as KeysFunction
    this.#ensure(INITIAL_BLOCK)
    const { buffer } = this.#memory
    if (wide) new Uint16Array(buffer, 0, 256).set(automaton.classes)
    else new Uint8Array(buffer, 0, 256).set(automaton.classes)
    new Int32Array(buffer, TABLE_AT, automaton.table.length).set(automaton.table)
  }

  scan(bytes: Uint8Array, start: number, end: number, lines = false): number {
    const length = end - start
    // Bytes already in the input area (see inputBuffer) are scanned in place.
    const inPlace = bytes.buffer === this.#memory.buffer && bytes.byteOffset === this.#inputAt
    if (inPlace && end > this.#capacity) throw new PurpleError('PURPLE_INTERNAL', 'scan past the input area')
    if (!inPlace) {
      this.#ensure(length)
      this.#input.set(bytes.subarray(start, end))
    }
    this.#base = start
    this.#at = this.#inputAt + (inPlace ? start : 0)
    this.#length = length
    const posAt = this.#inputAt + this.#capacity
    if (lines) this.newlineCount = this.#newlines(this.#at, length, posAt + this.#capacity * 8, start)
    return this.#scan(TABLE_AT, this.#at, length, posAt, posAt + this.#capacity * 4, start, this.#warm)
  }

  inputBuffer(size: number): Buffer {
    this.#ensure(size)
    // The same view while the memory has not grown (growing detaches the old one).
    if (this.#view?.buffer !== this.#memory.buffer || this.#view.length !== this.#capacity) {
      this.#view = Buffer.from(this.#memory.buffer, this.#inputAt, this.#capacity)
    }
    return this.#view
  }

  keysOf(start: number, end: number, lengths: KeyLengths): number {
    if (start < this.#base || end > this.#base + this.#length || end < start) {
      throw new PurpleError('PURPLE_INTERNAL', 'keysOf: the line is not in the last scanned block')
    }
    const at = this.#at + start - this.#base
    return this.#keys(at, end - start, this.#inputAt + this.#capacity * 13, lengths.lo, lengths.hi)
  }

  /** Room for a block of `length` bytes: one match, one newline and one key's i32 per byte. */
  #ensure(length: number): void {
    if (length <= this.#capacity) return
    let capacity = Math.max(INITIAL_BLOCK, this.#capacity)
    while (capacity < length) capacity *= 2
    const needed = this.#inputAt + capacity * 17
    const have = this.#memory.buffer.byteLength
    if (needed > have) this.#memory.grow(Math.ceil((needed - have) / PAGE))
    this.#capacity = capacity
    const buffer = this.#memory.buffer
    this.#input = new Uint8Array(buffer, this.#inputAt, capacity)
    this.positions = new Int32Array(buffer, this.#inputAt + capacity, capacity)
    this.states = new Int32Array(buffer, this.#inputAt + capacity * 5, capacity)
    this.newlines = new Int32Array(buffer, this.#inputAt + capacity * 9, capacity)
    this.keys = new Int32Array(buffer, this.#inputAt + capacity * 13, capacity)
  }
}

/** Aho-Corasick over lower-case literals as a dense DFA over byte classes; upper-case ASCII folds to lower. */
function buildAutomaton(literals: readonly string[]): Automaton {
  // Class 0: every byte no literal holds (the automaton returns to its start state on it).
  const classOf = new Int32Array(256)
  let width = 1
  for (const c of [...new Set(literals.join(''))].sort()) classOf[c.charCodeAt(0)] = width++
  for (let c = 0x41; c <= 0x5a; c++) classOf[c] = classOf[c + 0x20]!
  const maxStates = 1 + literals.reduce((n, l) => n + l.length, 0)
  const next = new Int32Array(maxStates * width).fill(-1)
  const outputs: number[][] = [[]]
  let states = 1
  literals.forEach((literal, id) => {
    let s = 0
    for (let i = 0; i < literal.length; i++) {
      const slot = s * width + classOf[literal.charCodeAt(i)]!
      if (next[slot] === -1) {
        next[slot] = states++
        outputs.push([])
      }
      s = next[slot]!
    }
    outputs[s]!.push(id)
  })
  // Breadth-first: a missing transition copies the failure state's (complete, being shallower), and a
  // state also outputs what its failure state outputs.
  const fail = new Int32Array(states)
  const queue: number[] = []
  for (let c = 0; c < width; c++) {
    const t = next[c]!
    if (t === -1) next[c] = 0
    else queue.push(t)
  }
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head]!
    if (s !== 0 && fail[s] !== 0) outputs[s]!.push(...outputs[fail[s]!]!)
    for (let c = 0; c < width; c++) {
      const slot = s * width + c
      const viaFail = next[fail[s]! * width + c]!
      if (next[slot] === -1) next[slot] = viaFail
      else {
        fail[next[slot]!] = viaFail
        queue.push(next[slot]!)
      }
    }
  }
  const rowBytes = width * 4
  const table = new Int32Array(states * width)
  for (let slot = 0; slot < table.length; slot++) {
    const t = next[slot]!
    table[slot] = TABLE_AT + t * rowBytes + (outputs[t]!.length > 0 ? 1 : 0)
  }
  const outFrom = new Int32Array(states + 1)
  for (let s = 0; s < states; s++) outFrom[s + 1] = outFrom[s]! + outputs[s]!.length
  return {
    table,
    classes: (width <= 64 ? new Uint8Array(256) : new Uint16Array(256)).map((_, byte) => classOf[byte]! * 4),
    rowBytes,
    outFrom,
    outIds: Int32Array.from(outputs.flat()),
  }
}
