import { describe, expect, it } from 'vitest'
import { createRng } from '../../../src/bench/generate.js'
import { utcMillis } from '../../../src/telemetry/sources/common.js'

// utcMillis is a fast path for Date.parse: wherever it answers, it must answer what Date.parse does.
describe('utcMillis (the RFC 3339 fast path)', () => {
  it('equals Date.parse on the shapes it takes', () => {
    for (const s of [
      '2026-01-12T08:00:00Z',
      '2026-01-12T08:00:00.5Z',
      '2026-01-12T08:00:00.0029Z',
      '2026-01-12T08:00:00.002616Z',
      '2026-12-28T23:59:59.999999999Z',
      '1970-01-01T00:00:00.000Z',
    ]) {
      expect(utcMillis(s)).toBe(Date.parse(s))
    }
  })

  it('leaves every other shape to Date.parse', () => {
    for (const s of [
      '2026-02-30T08:00:00Z', // Date.parse rolls this over to March
      '2026-01-12T24:00:00Z',
      '2026-01-12T08:00:60Z',
      '2026-01-12T08:00:00.Z',
      '2026-01-12T08:00:00.1aZ',
      '2026-01-12t08:00:00Z',
      '2026-01-12T08:00:00+02:00',
      '0099-01-01T00:00:00Z',
      '2026-01-12T-1:00:00Z',
      '2026-01-12T08:00Z',
      '2026-01-12T08:00:00.0777777777Z', // ten digits: Date.parse says 777 ms
    ]) {
      expect(utcMillis(s)).toBeUndefined()
    }
  })

  it('agrees with Date.parse on 20,000 mutated timestamps wherever it answers', () => {
    const rng = createRng(3)
    const chars = '0123456789-:.TZtz +'
    let answered = 0
    for (let i = 0; i < 20_000; i++) {
      const base = `${1960 + rng.int(80)}-${String(rng.int(14)).padStart(2, '0')}-${String(rng.int(33)).padStart(2, '0')}T${String(rng.int(26)).padStart(2, '0')}:${String(rng.int(62)).padStart(2, '0')}:${String(rng.int(62)).padStart(2, '0')}${rng.int(2) ? `.${'7'.repeat(rng.int(12))}${rng.int(10)}` : ''}Z`
      const chars2 = [...base]
      for (let k = rng.int(3); k > 0; k--) chars2[rng.int(chars2.length)] = rng.pick([...chars])
      const s = chars2.join('')
      const fast = utcMillis(s)
      if (fast === undefined) continue
      answered++
      expect(fast, s).toBe(Date.parse(s))
    }
    expect(answered).toBeGreaterThan(2_000)
  })
})
