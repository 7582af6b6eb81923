const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `30s`, `5m`, `1h`, `2d` → milliseconds; undefined when malformed or zero. */
export function parseTimespan(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined
  const m = /^(\d+)([smhd])$/.exec(v.trim())
  if (!m) return undefined
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!
  return ms > 0 ? ms : undefined
}
