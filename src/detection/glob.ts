// Wildcard matching without backtracking, shared by Sigma values and SPL patterns. A pattern is split
// at its `*`s into segments; the first must match at the start, the last at the end, and each middle
// one is placed at its leftmost occurrence after the previous (leftmost placement never loses a match),
// so a match costs O(subject × pattern) at worst, whatever the attacker puts in either.

/** `?` inside a segment: any one character (code point). */
export const ANY = Symbol('any')
export type Segment = readonly (string | typeof ANY)[]

/** `first*m1*m2*…*last` over plain text (no `?`): prefix, each middle piece in order, then the suffix. */
export function starMatch(s: string, first: string, middle: readonly string[], last: string): boolean {
  if (s.length < first.length + last.length || !s.startsWith(first)) return false
  let pos = first.length
  for (const piece of middle) {
    const at = s.indexOf(piece, pos)
    if (at < 0) return false
    pos = at + piece.length
  }
  return s.length - last.length >= pos && s.endsWith(last)
}

/**
 * A matcher for segments separated by `*` (segments.length ≥ 1; one segment = no `*`), where a segment
 * may hold ANY. Works on code points, so `?` matches one character even outside the BMP.
 */
export function segmentMatcher(segments: readonly Segment[]): (s: string) => boolean {
  return (s) => {
    const chars = Array.from(s)
    const n = chars.length
    const first = segments[0]!
    if (segments.length === 1) return n === first.length && fits(chars, 0, first)
    const last = segments[segments.length - 1]!
    if (n < first.length + last.length || !fits(chars, 0, first)) return false
    let pos = first.length
    for (let k = 1; k < segments.length - 1; k++) {
      const seg = segments[k]!
      let at = pos
      while (at + seg.length <= n && !fits(chars, at, seg)) at++
      if (at + seg.length > n) return false
      pos = at + seg.length
    }
    return n - last.length >= pos && fits(chars, n - last.length, last)
  }
}

function fits(chars: readonly string[], at: number, seg: Segment): boolean {
  for (let k = 0; k < seg.length; k++) {
    const want = seg[k]!
    if (want !== ANY && chars[at + k] !== want) return false
  }
  return true
}
