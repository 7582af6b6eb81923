// AssemblyScript: the scan loop of the engine's literal prefilter, compiled to
// dist/wasm/literal-scan.wasm by `npm run build`. src/detection/literal-scan.ts builds the automaton
// (Aho-Corasick over byte classes) and lays out this module's memory.
//
// A DFA step is a table load that depends on the previous step's load, so one scan is bound by load
// latency: the block is cut into four segments scanned in lockstep, so four independent load chains
// overlap (with five or six the loop ran out of registers).
//
// The loop is kept to few instructions per byte (measured: it was bound by them, not by the table's
// size): the class map sits at address 0, so a byte's class is one load with no address arithmetic;
// states are the absolute addresses of their rows, so a step is two loads and an add; and the segments
// sit at fixed distances, so the four input loads share one address and differ by constant offsets.
//
// Memory, laid out by the caller:
//   [0, 512)  the class map: per byte value its class * 4, as u8 (`scan`: up to 64 classes) or as u16
//             (`scanWide`);
//   table     i32 per (state, class): the next state's row address, bit 0 set when that state accepts;
//   input     the block;
//   out       two i32 arrays, a match's last byte (as base + index) and its accepting row address, with
//             room for one match per input byte.

@inline function step<C>(state: i32, byte: u8): i32 {
  return load<i32>(<usize>state + <usize>load<C>(<usize>byte * sizeof<C>()))
}

@inline function record(outPos: usize, outState: usize, n: i32, at: i32, state: i32): void {
  store<i32>(outPos + (<usize>n << 2), at)
  store<i32>(outState + (<usize>n << 2), state)
}

/** Bytes per stream in a chunk: four streams scan a chunk of 4 * SEGMENT bytes in lockstep. */
const SEGMENT: i32 = 16384

/**
 * Scans `input[0, len)` from the start state at row address `start`; returns how many matches it wrote
 * to `outPos`/`outState`, in input order. Positions are written as `base + index`: where the block sits
 * in the caller's buffer. `warm` is the longest literal's length. The class map holds u8 values.
 */
export function scan(
  start: i32, input: usize, len: i32, outPos: usize, outState: usize, base: i32, warm: i32,
): i32 {
  return scanWith<u8>(start, input, len, outPos, outState, base, warm)
}

/** `scan` with a class map of u16 values (more than 64 classes). */
export function scanWide(
  start: i32, input: usize, len: i32, outPos: usize, outState: usize, base: i32, warm: i32,
): i32 {
  return scanWith<u16>(start, input, len, outPos, outState, base, warm)
}

@inline function scanWith<C>(
  start: i32, input: usize, len: i32, outPos: usize, outState: usize, base: i32, warm: i32,
): i32 {
  // Chunk by chunk, segment j of a chunk is [cs + j * SEGMENT, cs + (j + 1) * SEGMENT): at fixed
  // distances, so the four loads share one address and differ by their constant offsets. Segment 0
  // goes on from where the previous chunk's segment 3 ended; segments 1-3 start in the start state
  // `warm` bytes early (without recording), by which time it is the state a scan from the block's start
  // would be in (no automaton state is deeper than the longest literal).
  let s0 = start
  let n: i32 = 0
  let cs: i32 = 0
  if (warm <= SEGMENT) {
    for (; cs + 4 * SEGMENT <= len; cs += 4 * SEGMENT) {
      const p = input + <usize>cs
      let s1 = warmUp<C>(start, p + <usize>(SEGMENT - warm), warm)
      let s2 = warmUp<C>(start, p + <usize>(2 * SEGMENT - warm), warm)
      let s3 = warmUp<C>(start, p + <usize>(3 * SEGMENT - warm), warm)
      // Segment j's matches are written from slot cs + j * SEGMENT (at most one per byte), segment 0's
      // right after the previous chunks'.
      let n0 = n, n1 = cs + SEGMENT, n2 = cs + 2 * SEGMENT, n3 = cs + 3 * SEGMENT
      for (let k: i32 = 0; k < SEGMENT; k++) {
        const q = p + <usize>k
        s0 = step<C>(s0, load<u8>(q))
        s1 = step<C>(s1, load<u8>(q, SEGMENT))
        s2 = step<C>(s2, load<u8>(q, 2 * SEGMENT))
        s3 = step<C>(s3, load<u8>(q, 3 * SEGMENT))
        if (((s0 | s1 | s2 | s3) & 1) == 0) continue
        if (s0 & 1) { s0 ^= 1; record(outPos, outState, n0++, cs + k, s0) }
        if (s1 & 1) { s1 ^= 1; record(outPos, outState, n1++, cs + SEGMENT + k, s1) }
        if (s2 & 1) { s2 ^= 1; record(outPos, outState, n2++, cs + 2 * SEGMENT + k, s2) }
        if (s3 & 1) { s3 ^= 1; record(outPos, outState, n3++, cs + 3 * SEGMENT + k, s3) }
      }
      // Close the gaps between the segments' match lists.
      n = append(outPos, outState, cs + SEGMENT, n1, n0)
      n = append(outPos, outState, cs + 2 * SEGMENT, n2, n)
      n = append(outPos, outState, cs + 3 * SEGMENT, n3, n)
      s0 = s3
    }
  }
  n = finish<C>(input, cs, len, s0, outPos, outState, n)
  for (let i: i32 = 0; i < n; i++) store<i32>(outPos + (<usize>i << 2), load<i32>(outPos + (<usize>i << 2)) + base)
  return n
}

/** The state after `input[0, len)` from `state`, matches not recorded. */
@inline function warmUp<C>(state: i32, input: usize, len: i32): i32 {
  for (let i: i32 = 0; i < len; i++) state = step<C>(state, load<u8>(input + <usize>i)) & ~1
  return state
}

/** The rest of one segment, `input[i, end)`, from `state`. */
function finish<C>(
  input: usize, i: i32, end: i32, state: i32, outPos: usize, outState: usize, n: i32,
): i32 {
  for (; i < end; i++) {
    state = step<C>(state, load<u8>(input + <usize>i))
    if (state & 1) { state ^= 1; record(outPos, outState, n++, i, state) }
  }
  return n
}

/** Moves match slots [from, to) down to slot `n`; returns the new count. */
function append(outPos: usize, outState: usize, from: i32, to: i32, n: i32): i32 {
  if (from == n) return to
  for (let i = from; i < to; i++) {
    record(outPos, outState, n++, load<i32>(outPos + (<usize>i << 2)), load<i32>(outState + (<usize>i << 2)))
  }
  return n
}

/**
 * Writes the position (base + index) of every newline in `input[0, len)` to `out`, in order; returns
 * how many. Sixteen bytes per step: lines are ~1 KB, so most steps find none.
 */
export function newlines(input: usize, len: i32, out: usize, base: i32): i32 {
  const nl = i8x16.splat(10)
  let n: i32 = 0
  let i: i32 = 0
  for (; i + 16 <= len; i += 16) {
    let mask = i8x16.bitmask(i8x16.eq(v128.load(input + <usize>i), nl))
    while (mask != 0) {
      store<i32>(out + (<usize>n << 2), base + i + ctz(mask))
      n++
      mask &= mask - 1
    }
  }
  for (; i < len; i++) {
    if (load<u8>(input + <usize>i) != 10) continue
    store<i32>(out + (<usize>n << 2), base + i)
    n++
  }
  return n
}

/**
 * The keys of one JSON line `input[0, len)` (a string followed by a colon), for veto proofs: per key
 * whose length in bytes is a bit set in `lengths` (bit n of the 64-bit mask lo | hi << 32), three i32
 * written to `out`: the index of its opening quote, its length, and the nesting depth it sits at (1: a
 * key of the top-level object). Returns how many, or -1 when any key holds a backslash (an escape: it
 * cannot be found by its bytes) or the brackets do not balance. String bodies are skipped sixteen
 * bytes at a time.
 */
export function keys(input: usize, len: i32, out: usize, lo: u32, hi: u32): i32 {
  const lengths = (<u64>hi << 32) | <u64>lo
  const quote = i8x16.splat(0x22)
  const backslash = i8x16.splat(0x5c)
  let depth: i32 = 0
  let n: i32 = 0
  for (let i: i32 = 0; i < len; i++) {
    const c = load<u8>(input + <usize>i)
    if (c == 0x7b || c == 0x5b) depth++
    else if (c == 0x7d || c == 0x5d) depth--
    else if (c == 0x22) {
      const open = i
      let escaped = false
      i++
      // To the closing quote: the next quote or backslash, sixteen bytes at a time while they last.
      while (i < len) {
        if (i + 16 <= len) {
          const v = v128.load(input + <usize>i)
          const mask = i8x16.bitmask(v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)))
          if (mask == 0) {
            i += 16
            continue
          }
          i += ctz(mask)
        } else {
          const d = load<u8>(input + <usize>i)
          if (d != 0x22 && d != 0x5c) {
            i++
            continue
          }
        }
        if (load<u8>(input + <usize>i) == 0x22) break
        escaped = true
        i += 2
      }
      let next = i + 1
      while (next < len && isSpace(load<u8>(input + <usize>next))) next++
      if (next >= len || load<u8>(input + <usize>next) != 0x3a) continue
      if (escaped) return -1
      const length = i - open - 1
      if (length >= 64 || ((lengths >> <u64>length) & 1) == 0) continue
      const at = out + (<usize>n * 12)
      store<i32>(at, open)
      store<i32>(at, length, 4)
      store<i32>(at, depth, 8)
      n++
    }
  }
  return depth == 0 ? n : -1
}

@inline function isSpace(c: u8): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d
}
