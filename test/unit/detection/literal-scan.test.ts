import { describe, expect, it } from 'vitest'
import { createRng } from '../../../src/bench/generate.js'
import { LiteralScanner, MAX_TABLE_BYTES } from '../../../src/detection/literal-scan.js'
import { PurpleError } from '../../../src/errors.js'

const ALPHABET = 'abcdeEXs:/-."{} '

function randomWords(seed: number) {
  const rng = createRng(seed)
  const word = (n: number) => Array.from({ length: n }, () => rng.pick([...ALPHABET])).join('')
  return { rng, word }
}

/** Per line of `text`, the literals found by the scanner (matches taken in order, as the engine does). */
function perLine(scanner: LiteralScanner, text: string): Set<string>[] {
  const bytes = Buffer.from(text)
  const count = scanner.scan(bytes, 0, bytes.length)
  const out: Set<string>[] = []
  let k = 0
  let start = 0
  for (const line of text.split('\n')) {
    const end = start + line.length
    const seen = new Uint32Array(scanner.literals.length)
    const found = new Int32Array(scanner.literals.length)
    let n = 0
    while (k < count && scanner.positions[k]! < end) {
      expect(scanner.positions[k]!).toBeGreaterThanOrEqual(start)
      n = scanner.mark(k++, seen, 1, found, n)
    }
    out.push(new Set([...found.subarray(0, n)].map((id) => scanner.literals[id]!)))
    start = end + 1
  }
  expect(k).toBe(count)
  return out
}

const naive = (literals: readonly string[], line: string) =>
  new Set(literals.filter((l) => line.toLowerCase().includes(l)))

describe('LiteralScanner', () => {
  it('finds literals case-insensitively in raw bytes, and reports which ones', () => {
    const scanner = new LiteralScanner(['secrets', 'exec', 'cret'])
    expect(scanner.find('{"objectRef":{"resource":"SeCrEtS"}}')).toEqual(new Set(['secrets', 'cret']))
    expect(scanner.find('{"resource":"configmaps"}')).toEqual(new Set())
  })

  it('only looks inside [start, end) and reports positions in the caller’s bytes', () => {
    const scanner = new LiteralScanner(['secrets'])
    const bytes = Buffer.from('secrets|pods|secrets')
    expect(scanner.scan(bytes, 8, 12)).toBe(0)
    expect(scanner.scan(bytes, 7, 20)).toBe(1)
    expect(scanner.positions[0]).toBe(19)
    expect(scanner.scan(bytes, 0, 6)).toBe(0)
  })

  it('agrees with a naive lower-case search on random text (overlapping literals included)', () => {
    const { rng, word } = randomWords(42)
    for (let round = 0; round < 200; round++) {
      const literals = [
        ...new Set(Array.from({ length: 1 + rng.int(6) }, () => word(1 + rng.int(4)).toLowerCase())),
      ]
      const text = word(rng.int(60))
      expect(new LiteralScanner(literals).find(text)).toEqual(naive(literals, text))
    }
  })

  it('gives each line of a block its own literals, whatever the block size (its four scans meet at line starts)', () => {
    const { rng, word } = randomWords(7)
    for (let round = 0; round < 300; round++) {
      const literals = [
        ...new Set(Array.from({ length: 1 + rng.int(8) }, () => word(2 + rng.int(10)).toLowerCase())),
      ]
      const scanner = new LiteralScanner(literals)
      // Lines of very different lengths (one may be longer than a quarter of the block), some with a
      // planted upper-cased literal, some empty.
      const lines = Array.from({ length: rng.int(12) + 1 }, () => {
        const planted = rng.int(2) ? rng.pick(literals).toUpperCase() : ''
        const half = rng.int(rng.int(4) === 0 ? 400 : 30)
        return `${word(half)}${planted}${word(rng.int(30))}`
      })
      const found = perLine(scanner, lines.join('\n'))
      expect(found).toEqual(lines.map((line) => naive(literals, line)))
    }
  })

  it('handles literal sets with more than 64 byte classes (the wide class map), per line', () => {
    // Every printable ASCII character (upper case folds to lower): 69 distinct classes plus "none".
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')
    const rng = createRng(11)
    const word = (n: number) => Array.from({ length: n }, () => rng.pick([...printable])).join('')
    for (let round = 0; round < 40; round++) {
      const literals = [
        ...new Set([
          printable.toLowerCase(),
          ...Array.from({ length: 1 + rng.int(20) }, () => word(2 + rng.int(3)).toLowerCase()),
        ]),
      ]
      expect(new Set(literals.join('')).size).toBeGreaterThan(64)
      const lines = Array.from({ length: 1 + rng.int(10) }, () => word(rng.int(300)))
      expect(perLine(new LiteralScanner(literals), lines.join('\n'))).toEqual(
        lines.map((line) => naive(literals, line)),
      )
    }
  })

  it('finds every match in blocks scanned as parallel segments, literals across segment edges included', () => {
    // Blocks of 64 KB and more are scanned as four 16 KB segments at a time, each started early by the
    // longest literal's length: plant literals (one as long as a segment) across every 16 KB edge.
    const { rng, word } = randomWords(23)
    for (let round = 0; round < 6; round++) {
      const literals = [
        ...new Set([
          ...Array.from({ length: 1 + rng.int(6) }, () => word(2 + rng.int(12)).toLowerCase()),
          round === 5 ? 'q'.repeat(16384) : 'longer-literal-across-an-edge',
        ]),
      ]
      const scanner = new LiteralScanner(literals)
      const chars = [...word(200_000 + rng.int(100_000)).replaceAll('\n', ' ')]
      const longest = literals.reduce((a, b) => (b.length > a.length ? b : a))
      for (let edge = 16384, i = 0; edge < chars.length - 20_000; edge += 16384, i++) {
        // Every other edge: the longest literal ending on a segment's first byte (the earliest start
        // a segment's early start must cover); else any literal somewhere across the edge.
        const literal = i % 2 ? rng.pick(literals) : longest
        const at = i % 2 ? edge - rng.int(Math.min(literal.length, 40) + 1) : edge - literal.length + 1
        chars.splice(at, literal.length, ...literal.toUpperCase())
      }
      // Newlines now and then, so matches are also checked per line.
      for (let i = 997; i < chars.length; i += 997 + rng.int(5000)) if (chars[i] !== 'q') chars[i] = '\n'
      const text = chars.join('')
      expect(perLine(scanner, text)).toEqual(text.split('\n').map((line) => naive(literals, line)))
    }
  })

  it('grows its memory for blocks larger than it started with, and keeps working after', () => {
    const scanner = new LiteralScanner(['"secrets"', 'needle'])
    const line = `{"x":"${'a'.repeat(1000)}"}`
    const big = Array.from({ length: 3000 }, (_, i) =>
      i % 997 === 5 ? line.replace('"x"', '"secrets"') : line,
    )
    const found = perLine(scanner, big.join('\n'))
    expect(found.filter((f) => f.has('"secrets"')).length).toBe(
      big.filter((l) => l.includes('"secrets"')).length,
    )
    expect(scanner.find('a needle')).toEqual(new Set(['needle']))
  })

  it('refuses literals it cannot fold, and says when a literal set is too large to table', () => {
    expect(() => new LiteralScanner(['geheimnis-ü'])).toThrow(PurpleError)
    expect(LiteralScanner.fits(['"secrets"'])).toBe(true)
    const huge = Array.from({ length: 64 }, (_, i) => `${String.fromCharCode(33 + i)}${'x'.repeat(60_000)}`)
    expect(LiteralScanner.fits(huge)).toBe(false)
    expect(MAX_TABLE_BYTES).toBeGreaterThan(1 << 20)
  })
})
