// AssemblyScript: the scan loop of the engine's literal prefilter, compiled to
// dist/wasm/literal-scan.wasm by `npm run build`. src/detection/literal-scan.ts builds the automaton
// (Aho-Corasick over byte classes) and lays out this module's memory.
//
// A DFA step is a table load that depends on the previous step's load, so one scan is bound by load
// latency. The block (whole lines) is cut at line starts — where the automaton is in its start state
// anyway, no literal holding a newline — into four segments scanned in lockstep, so four independent
// load chains overlap. Four measured fastest here: with five or six the loop runs out of registers.
//
// Memory, at offsets chosen by the caller:
//   table    i32 per (state, class): the next state's row offset, bit 0 set when that state accepts;
//   classes  i32 per byte value: its class * 4 (upper-case ASCII folded to lower case);
//   input    the block;
//   out      two i32 arrays, a match's last byte (as base + index) and its accepting row offset, with
//            room for one match per input byte.

@inline function next(table: usize, classes: usize, state: i32, input: usize, at: i32): i32 {
  const byte = <usize>load<u8>(input + <usize>at)
  return load<i32>(table + <usize>state + <usize>load<i32>(classes + (byte << 2)))
}

@inline function record(outPos: usize, outState: usize, n: i32, at: i32, state: i32): void {
  store<i32>(outPos + (<usize>n << 2), at)
  store<i32>(outState + (<usize>n << 2), state)
}

/** The start of the first line beginning at or after `from` (`len` if none). */
function lineStart(input: usize, from: i32, len: i32): i32 {
  if (from <= 0) return 0
  for (let i = from - 1; i < len; i++) if (load<u8>(input + <usize>i) == 10) return i + 1
  return len
}

/**
 * Scans `input[0, len)`; returns how many matches it wrote to `outPos`/`outState`, in input order.
 * Positions are written as `base + index`: where the block sits in the caller's buffer.
 */
export function scan(
  table: usize, classes: usize, input: usize, len: i32, outPos: usize, outState: usize, base: i32,
): i32 {
  // Segment j is [at_j, at_j+1); its matches are written from slot at_j (at most one per byte).
  const quarter = len >> 2
  const at1 = lineStart(input, quarter, len)
  const at2 = lineStart(input, max(at1, quarter * 2), len)
  const at3 = lineStart(input, max(at2, quarter * 3), len)
  const common = min(min(at1, at2 - at1), min(at3 - at2, len - at3))
  let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0
  let n0: i32 = 0, n1 = at1, n2 = at2, n3 = at3
  for (let k: i32 = 0; k < common; k++) {
    s0 = next(table, classes, s0, input, k)
    s1 = next(table, classes, s1, input, at1 + k)
    s2 = next(table, classes, s2, input, at2 + k)
    s3 = next(table, classes, s3, input, at3 + k)
    if (((s0 | s1 | s2 | s3) & 1) == 0) continue
    if (s0 & 1) { s0 ^= 1; record(outPos, outState, n0++, k, s0) }
    if (s1 & 1) { s1 ^= 1; record(outPos, outState, n1++, at1 + k, s1) }
    if (s2 & 1) { s2 ^= 1; record(outPos, outState, n2++, at2 + k, s2) }
    if (s3 & 1) { s3 ^= 1; record(outPos, outState, n3++, at3 + k, s3) }
  }
  n0 = finish(table, classes, input, common, at1, s0, outPos, outState, n0)
  n1 = finish(table, classes, input, at1 + common, at2, s1, outPos, outState, n1)
  n2 = finish(table, classes, input, at2 + common, at3, s2, outPos, outState, n2)
  n3 = finish(table, classes, input, at3 + common, len, s3, outPos, outState, n3)
  // Close the gaps between the segments' match lists, then make positions the caller's.
  let n = append(outPos, outState, at1, n1, n0)
  n = append(outPos, outState, at2, n2, n)
  n = append(outPos, outState, at3, n3, n)
  for (let i: i32 = 0; i < n; i++) store<i32>(outPos + (<usize>i << 2), load<i32>(outPos + (<usize>i << 2)) + base)
  return n
}

/** The rest of one segment, `input[i, end)`, from `state`. */
function finish(
  table: usize, classes: usize, input: usize, i: i32, end: i32, state: i32,
  outPos: usize, outState: usize, n: i32,
): i32 {
  for (; i < end; i++) {
    state = next(table, classes, state, input, i)
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
