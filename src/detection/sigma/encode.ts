// Value transformations of the Sigma encoding modifiers: each maps one rule value to the value(s) to
// search for in events.

export type Encodable = string | Buffer

export function utf16le(v: Encodable): Buffer {
  return Buffer.from(String(v), 'utf16le')
}

export function utf16be(v: Encodable): Buffer {
  return utf16le(v).swap16()
}

/** UTF-16 with a byte-order mark (little endian, as Windows writes it). */
export function utf16bom(v: Encodable): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le(v)])
}

export function base64(v: Encodable): string {
  return Buffer.from(v).toString('base64')
}

/**
 * The three forms `v` takes inside a longer base64 string, depending on its byte offset modulo 3:
 * encode with 0–2 leading filler bytes, then drop the characters that also depend on neighbouring bytes.
 */
export function base64Offsets(v: Encodable): string[] {
  const bytes = Buffer.from(v)
  const dropStart = [0, 2, 3]
  const dropEnd = [0, 3, 2]
  const out: string[] = []
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64')
    const end = encoded.length - dropEnd[(bytes.length + shift) % 3]!
    out.push(encoded.slice(dropStart[shift], end))
  }
  return out
}

const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015']
const FLAG_START = /(?<=^|\s)[-/\u2013\u2014\u2015]/g
/** 5^5 = 3,125 variants at most: beyond, a value is refused rather than blowing up memory. */
export const MAX_WINDASH_FLAGS = 5

/**
 * Windows command-line flags may start with any dash-like character, and each flag independently
 * (`-s /i` is as valid as `-s -i`): every permutation, or undefined past MAX_WINDASH_FLAGS flags.
 */
export function windash(v: string): string[] | undefined {
  const starts = [...v.matchAll(FLAG_START)].map((m) => m.index)
  if (starts.length > MAX_WINDASH_FLAGS) return undefined
  let variants = ['']
  let from = 0
  for (const at of starts) {
    const between = v.slice(from, at)
    variants = variants.flatMap((prefix) => DASHES.map((d) => prefix + between + d))
    from = at + 1
  }
  const rest = v.slice(from)
  return variants.map((prefix) => prefix + rest)
}
