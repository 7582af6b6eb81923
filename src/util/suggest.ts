/** Edit distance, capped: stops early once every cell of a row exceeds `max` (ids are short anyway). */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
      row.push(v)
      best = Math.min(best, v)
    }
    if (best > max) return max + 1
    prev = row
  }
  return prev[b.length] as number
}

/**
 * "Did you mean" candidates for an unknown id: close by edit distance (a third of its length, at least 2)
 * or containing / contained in it, nearest first, at most three.
 */
export function suggest(id: string, known: Iterable<string>): string[] {
  const max = Math.max(2, Math.floor(id.length / 3))
  const scored: [string, number][] = []
  for (const k of known) {
    // Ids are attacker-writable: compare at most 200 characters of each.
    const d = editDistance(id.slice(0, 200), k.slice(0, 200), max)
    if (d <= max) scored.push([k, d])
    else if (id.length >= 4 && (k.includes(id) || id.includes(k))) scored.push([k, max + 1])
  }
  return scored
    .sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, 3)
    .map(([k]) => k)
}
