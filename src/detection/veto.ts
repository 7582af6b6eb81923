// Proving from a raw k8s-audit line, without parsing it, that a rule cannot match: one of the rule's
// `not` parts holds. Most lines the literal prefilter lets through are dropped by rules such as "secret
// read, not by system:node:…" or "…, not from the cluster networks", and parsing them cost more than
// scanning the whole file.
//
// The proof reads the field's value off the line's bytes, and only where they show that JSON.parse
// would give the event exactly that value:
// - no key anywhere is written with an escape (`"us\u0065r"` would be a second `user`), so a key is
//   found by its bytes;
// - the line is not an EventList (whose events are its items): `kind` is absent or exactly "Event";
// - the first key (`"user"`) is a key of the top-level object once, and each inner key (`"username"`)
//   a key once in the whole line: no duplicate key can override the value;
// - no dotted key (`"user.username"`) that the field lookup would try first;
// - from that key, the exact bytes `"user":{"username":`, then a string, or an array whose first
//   element is a string: the rule's own test (FieldVeto.test) is run on that string.
// Any other shape (whitespace, another key order, a value of another type) proves nothing: the line is
// parsed.
import { type KeyLengths, keyLengths } from './literal-scan.js'

const KEY = /^[A-Za-z0-9_-]+$/
const MAX_SEGMENTS = 4
/** Longest field name (dotted keys included) a proof is made for: the key reader's length mask. */
const MAX_NAME = 63
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** A field path as the byte patterns the proof looks for. */
export interface VetoField {
  /** `user.username` */
  readonly name: string
  /** Its keys (`user`, `username`): the first a key of the top-level object, each a key once in the line. */
  readonly keys: readonly string[]
  /** Dotted keys (`user.username`) the field lookup would try first: none may be a key in the line. */
  readonly dotted: readonly string[]
  /** The exact bytes from the top-level key up to its value: `"user":{"username":`. */
  readonly prefix: Buffer
}

const fields = new Map<string, VetoField | undefined>()

/** The field as byte patterns, or undefined when its path cannot be proven this way. */
export function vetoField(name: string): VetoField | undefined {
  if (fields.has(name)) return fields.get(name)
  const keys = name.split('.')
  let field: VetoField | undefined
  if (name.length <= MAX_NAME && keys.length <= MAX_SEGMENTS && keys.every((k) => KEY.test(k))) {
    const dotted: string[] = []
    for (let from = 0; from < keys.length; from++) {
      for (let to = from + 2; to <= keys.length; to++) dotted.push(keys.slice(from, to).join('.'))
    }
    field = { name, keys, dotted, prefix: Buffer.from(keys.map((k) => `"${k}":`).join('{')) }
  }
  fields.set(name, field)
  return field
}

/**
 * A line's keys as the proofs for a set of fields need them (see read): per key name, where it is a key
 * of the top-level object, and how many times it is a key anywhere.
 */
export class LineKeys {
  /** Key names by slot; slot 0 is `kind`. */
  readonly #names: Buffer[] = [Buffer.from('kind')]
  /** Per key length: the slots of the names that long. */
  readonly #byLength: (number[] | undefined)[] = []
  /** Per field: the slots of its keys, then of its dotted keys. */
  readonly #fieldSlots = new Map<VetoField, number[]>()
  /** Per slot, for the last line read: the index of its opening quote at depth 1 (-1: none, -2: more). */
  readonly #top: Int32Array
  /** Per slot, for the last line read: how many times it is a key, at any depth. */
  readonly #count: Int32Array
  /** The names' lengths: the keys LiteralScanner.keysOf needs to list. */
  readonly lengths: KeyLengths

  constructor(fields: readonly VetoField[]) {
    for (const f of fields)
      this.#fieldSlots.set(
        f,
        [...f.keys, ...f.dotted].map((k) => this.#slot(k)),
      )
    this.#names.forEach((name, slot) => {
      this.#byLength[name.length] ??= []
      this.#byLength[name.length]!.push(slot)
    })
    this.#top = new Int32Array(this.#names.length)
    this.#count = new Int32Array(this.#names.length)
    this.lengths = keyLengths(this.#names.map((n) => n.length))
  }

  #slot(name: string): number {
    const i = this.#names.findIndex((n) => n.toString() === name)
    return i >= 0 ? i : this.#names.push(Buffer.from(name)) - 1
  }

  /**
   * Takes the keys of one line as LiteralScanner.keysOf lists them (`count` triples in `found`: opening
   * quote, length, depth); false when there is no list (a key written with an escape, unbalanced brackets).
   */
  read(line: Uint8Array, found: Int32Array, count: number): boolean {
    if (count < 0) return false
    const top = this.#top
    const counts = this.#count
    const names = this.#names
    const byLength = this.#byLength
    top.fill(-1)
    counts.fill(0)
    for (let k = 0; k < count * 3; k += 3) {
      const slots = byLength[found[k + 1]!]
      if (slots === undefined) continue
      const open = found[k]!
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!
        const name = names[slot]!
        // The first byte tells most keys of the same length apart.
        if (line[open + 1] !== name[0] || !sameBytes(line, open + 1, name)) continue
        counts[slot]!++
        if (found[k + 2] === 1) top[slot] = top[slot] === -1 ? open : -2
      }
    }
    return true
  }

  /** Whether the line just read may be an EventList: its top-level `kind` is not exactly "Event". */
  maybeEventList(line: Buffer): boolean {
    const at = this.#top[0]!
    if (at === -1) return false
    return at === -2 || !sameBytes(line, at, KIND_EVENT)
  }

  /**
   * Where the field's value starts in the line just read (just after its key's colon), or -1 when the
   * line does not prove it. The field must be one of the constructor's.
   */
  valueAt(line: Buffer, field: VetoField): number {
    const slots = this.#fieldSlots.get(field)!
    const at = this.#top[slots[0]!]!
    if (at < 0) return -1
    for (let k = 1; k < field.keys.length; k++) if (this.#count[slots[k]!] !== 1) return -1
    for (let k = field.keys.length; k < slots.length; k++) if (this.#count[slots[k]!] !== 0) return -1
    return sameBytes(line, at, field.prefix) ? at + field.prefix.length : -1
  }
}

const KIND_EVENT = Buffer.from('"kind":"Event"')

/** Whether `bytes` occur in `line` at `at` (a plain loop: the bytes are short, and a native compare costs more). */
function sameBytes(line: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at + bytes.length > line.length) return false
  for (let k = 0; k < bytes.length; k++) if (line[at + k] !== bytes[k]) return false
  return true
}

/**
 * The string value at `at` in a line (a value's first byte: the field's own string, or the first
 * element of an array holding strings), as JSON.parse gives it; undefined for any other value.
 */
export function stringAt(line: Buffer, at: number): string | undefined {
  const open = line[at] === QUOTE ? at : line[at] === 0x5b && line[at + 1] === QUOTE ? at + 1 : -1
  if (open < 0) return undefined
  let escaped = false
  let close = open + 1
  for (; close < line.length && line[close] !== QUOTE; close++) {
    if (line[close] === BACKSLASH) {
      escaped = true
      close++
    }
  }
  if (close >= line.length) return undefined
  if (!escaped) return line.toString('utf8', open + 1, close)
  try {
    return JSON.parse(line.toString('utf8', open, close + 1)) as string
  } catch {
    return undefined
  }
}
