// A small seeded generator, so an exercise plan is a pure function of its seed (never Math.random).
// sfc32 (Chris Doty-Humphrey's Small Fast Counter): 128 bits of state, good statistical quality, 32-bit
// integer arithmetic only, identical on every platform. The seed is spread over the state with splitmix32.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number
  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T
  /** One element, with probability proportional to its weight. */
  weighted<T>(items: readonly { value: T; weight: number }[]): T
  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[]
  /** Exponentially distributed with this mean (Poisson arrivals). */
  exponential(mean: number): number
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer`)
  // Both halves of a seed above 2^32 count.
  const init = splitmix32((seed % 0x100000000) ^ Math.floor(seed / 0x100000000))
  let a = init()
  let b = init()
  let c = init()
  let d = init()
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) >>> 0
    return t
  }
  for (let i = 0; i < 12; i++) u32() // warm-up: decorrelate nearby seeds
  const rng: Rng = {
    next: () => u32() / 0x100000000,
    int: (min, max) => min + Math.floor(rng.next() * (max - min + 1)),
    pick: (items) => {
      if (!items.length) throw new RangeError('pick from an empty list')
      return items[Math.floor(rng.next() * items.length)] as (typeof items)[number]
    },
    weighted: (items) => {
      const total = items.reduce((s, i) => s + i.weight, 0)
      let r = rng.next() * total
      for (const i of items) {
        r -= i.weight
        if (r < 0) return i.value
      }
      return (items[items.length - 1] as (typeof items)[number]).value
    },
    shuffle: (items) => {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1))
        ;[out[i], out[j]] = [out[j] as (typeof out)[number], out[i] as (typeof out)[number]]
      }
      return out
    },
    exponential: (mean) => -Math.log(1 - rng.next()) * mean,
  }
  return rng
}
