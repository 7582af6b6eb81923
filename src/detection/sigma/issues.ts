import type { Issue } from '../../errors.js'

/** Collects every problem of one rule file, so the user sees them all at once. */
export class Issues {
  readonly list: Issue[] = []
  constructor(
    readonly file: string,
    /** Prefix for multi-document files (`documents[2].`), empty otherwise. */
    public prefix = '',
  ) {}

  add(path: string, message: string): void {
    this.list.push({
      file: this.file,
      path: clip(this.prefix + path, 200),
      message: clip(message, 400),
      code: 'PURPLE_RULE_INVALID',
    })
  }
}

/** Text echoed in messages is cut short: a rule may hold megabyte values or keys. */
export function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
}

/** Closest candidate within edit distance 2, for "did you mean" hints. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const c of candidates) {
    const d = editDistance(word, c)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost))
    }
    prev = row
  }
  return prev[b.length]!
}
