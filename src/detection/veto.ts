// Proving from a raw k8s-audit line, without parsing it, that a rule cannot match: one of the rule's
// `not` parts holds. Most lines the literal prefilter lets through are dropped by rules such as "secret
// read, not by system:node:…", and parsing them cost more than scanning the whole file.
//
// The proof reads the field's value off the line's bytes, and only where they show that JSON.parse
// would give the event exactly that value:
// - no key anywhere is written with an escape (`"us\u0065r"` would be a second `user`), so a key is
//   found by its bytes;
// - the line is not an EventList (whose events are its items): `kind` is absent or exactly "Event";
// - the first key (`"user"`) is a key of the top-level object once, and each inner key (`"username"`)
//   a key once in the whole line: no duplicate key can override the value;
// - no dotted key (`"user.username"`) that the field lookup would try first;
// - from that key, the exact bytes `"user":{"username":"`, then the value: compared as Sigma compares
//   (ASCII case-insensitively unless cased) and, for an exact match, followed by the closing quote.
// Any other shape (whitespace, another key order, a non-string value) proves nothing: the line is parsed.
import { type KeyLengths, keyLengths } from './literal-scan.js'
import type { FieldVeto } from './types.js'

const KEY = /^[A-Za-z0-9_-]+$/
const MAX_SEGMENTS = 4
/** Longest field name (dotted keys included) a proof is made for: the key reader's length mask. */
const MAX_NAME = 63
const QUOTE = 0x22

/** A field path as the byte patterns the proof looks for. */
export interface VetoField {
  /** `user.username` */
  readonly name: string
  /** Its keys (`user`, `username`): the first a key of the top-level object, each a key once in the line. */
  readonly keys: readonly string[]
  /** Dotted keys (`user.username`) the field lookup would try first: none may be a key in the line. */
  readonly dotted: readonly string[]
  /** The exact bytes from the top-level key up to the value: `"user":{"username":"`. */
  readonly prefix: Buffer
}

/** One value of a FieldVeto. */
export interface VetoProbe {
  readonly field: VetoField
  /** The value's bytes (lower case unless cased). */
  readonly value: Buffer
  readonly startsWith: boolean
  readonly cased: boolean
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
    field = { name, keys, dotted, prefix: Buffer.from(`${keys.map((k) => `"${k}":`).join('{')}"`) }
  }
  fields.set(name, field)
  return field
}

/** A probe per value of the veto; undefined when its field cannot be proven this way. */
export function vetoProbes(veto: FieldVeto): VetoProbe[] | undefined {
  const field = vetoField(veto.field)
  if (!field) return undefined
  return veto.values.map((value) => ({
    field,
    value: Buffer.from(value),
    startsWith: veto.startsWith,
    cased: veto.cased,
  }))
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
    this.#top.fill(-1)
    this.#count.fill(0)
    for (let k = 0; k < count * 3; k += 3) {
      const slots = this.#byLength[found[k + 1]!]
      if (slots === undefined) continue
      const open = found[k]!
      for (const slot of slots) {
        if (!sameBytes(line, open + 1, this.#names[slot]!)) continue
        this.#count[slot]!++
        if (found[k + 2] === 1) this.#top[slot] = this.#top[slot] === -1 ? open : -2
      }
    }
    return true
  }

  /** Whether the line just read may be an EventList: its top-level `kind` is not exactly "Event". */
  maybeEventList(line: Buffer): boolean {
    const at = this.#top[0]!
    if (at === -1) return false
    return at === -2 || line.compare(KIND_EVENT, 0, KIND_EVENT.length, at, at + KIND_EVENT.length) !== 0
  }

  /**
   * Where the field's string value starts in the line just read (just after its opening quote), or -1
   * when the line does not prove it. The field must be one of the constructor's.
   */
  valueAt(line: Buffer, field: VetoField): number {
    const slots = this.#fieldSlots.get(field)!
    const at = this.#top[slots[0]!]!
    if (at < 0) return -1
    for (let k = 1; k < field.keys.length; k++) if (this.#count[slots[k]!] !== 1) return -1
    for (let k = field.keys.length; k < slots.length; k++) if (this.#count[slots[k]!] !== 0) return -1
    const { prefix } = field
    if (at + prefix.length > line.length) return -1
    return line.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0 ? at + prefix.length : -1
  }
}

const KIND_EVENT = Buffer.from('"kind":"Event"')

function sameBytes(line: Uint8Array, at: number, name: Buffer): boolean {
  for (let k = 0; k < name.length; k++) if (line[at + k] !== name[k]) return false
  return true
}

/** Whether the raw string value at `valueAt` (from fieldValueAt) passes the probe's test. */
export function probeHolds(line: Buffer, valueAt: number, probe: VetoProbe): boolean {
  const { value } = probe
  const after = valueAt + value.length
  if (after + (probe.startsWith ? 0 : 1) > line.length) return false
  for (let i = 0; i < value.length; i++) {
    const c = line[valueAt + i]!
    if ((probe.cased || c < 0x41 || c > 0x5a ? c : c + 0x20) !== value[i]) return false
  }
  return probe.startsWith || line[after] === QUOTE
}
