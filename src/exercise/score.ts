// Scoring: which attack each blue-team finding caught, how fast, and one score per team.
//
// A finding matches an attack when
//  - it names an audit ID: that ID is one of the attack's own audit events (nothing else is considered), or
//  - otherwise: its time lies in [attack sent − 5 s, attack ended + 15 s] AND it names an actor or a
//    technique, and every one it names fits the attack (actor: the attack's identity contains it, or the
//    other way round; technique: equal, or one is the parent of the other).
// Several attacks fit: the nearest in time, not-yet-found ones first. The first finding of an attack
// (by arrival) is the one that caught it; later ones are duplicates: correct, but they earn nothing.
//
// score = 100 × (0.5·recall + 0.3·precision + 0.2·timeliness)
//   recall      = attacks found / attacks
//   precision   = findings that match an attack (duplicates included) / all findings (0 with no findings)
//   timeliness  = Σ over found attacks of speed(time to detect) / attacks, where speed is 1 up to 1 min,
//                 falls linearly to 0 at 15 min (a missed attack adds 0)
// Time to detect = when the finding arrived − when the attack was sent.

export interface AttackRecord {
  /** Plan action id. */
  id: string
  scenario: string
  step: string
  title: string
  techniques: string[]
  /** Identity as telemetry shows it. */
  identity: string
  /** The command as run (redacted). */
  command: string
  sentAt: number
  endedAt: number
  exitCode: number
  /** Audit IDs of the telemetry tied to the action. */
  auditIDs: string[]
}

export interface Finding {
  id: string
  team: string
  via: 'alert' | 'manual'
  /** When the finding reached the exercise (epoch ms on the exercise's clock). */
  receivedAt: number
  /** When the finding says the activity happened (epoch ms). */
  time: number
  rule?: string
  actor?: string
  technique?: string
  note?: string
  auditID?: string
}

export interface AttackScore {
  attack: string
  found: boolean
  /** The finding that caught it. */
  by?: string
  ttdMs?: number
  duplicates: string[]
}

export interface TeamScore {
  team: string
  attacks: AttackScore[]
  findings: number
  matched: number
  unmatched: string[]
  recall: number
  precision: number
  timeliness: number
  score: number
}

export const WINDOW_BEFORE_MS = 5_000
export const WINDOW_AFTER_MS = 15_000
export const FAST_MS = 60_000
export const SLOW_MS = 15 * 60_000
export const WEIGHTS = { recall: 0.5, precision: 0.3, timeliness: 0.2 } as const

export function speed(ttdMs: number): number {
  if (ttdMs <= FAST_MS) return 1
  if (ttdMs >= SLOW_MS) return 0
  return 1 - (ttdMs - FAST_MS) / (SLOW_MS - FAST_MS)
}

const normActor = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/^system:serviceaccount:/, '')
    .replace(/:/g, '/')

export function actorFits(given: string, identity: string): boolean {
  const g = normActor(given)
  const id = normActor(identity)
  return g.length > 0 && (id.includes(g) || g.includes(id))
}

export function techniqueFits(given: string, techniques: readonly string[]): boolean {
  const g = given.trim().toUpperCase()
  return techniques.some((t) => t === g || t.startsWith(`${g}.`) || g.startsWith(`${t}.`))
}

/** Why a finding does not fit an attack; undefined when it fits. */
export function mismatch(f: Finding, a: AttackRecord): string | undefined {
  if (f.auditID)
    return a.auditIDs.includes(f.auditID)
      ? undefined
      : `audit ID ${f.auditID} is not one of this attack's events`
  if (f.time < a.sentAt - WINDOW_BEFORE_MS || f.time > a.endedAt + WINDOW_AFTER_MS) {
    const off = f.time < a.sentAt ? a.sentAt - f.time : f.time - a.endedAt
    return `its time is ${(off / 1000).toFixed(1)} s ${f.time < a.sentAt ? 'before' : 'after'} the attack (window −5 s/+15 s)`
  }
  if (!f.actor && !f.technique) return 'it names no actor, technique or audit ID'
  if (f.actor && !actorFits(f.actor, a.identity)) return `actor "${f.actor}" is not ${a.identity}`
  if (f.technique && !techniqueFits(f.technique, a.techniques))
    return `technique ${f.technique} is not ${a.techniques.join('/')}`
  return undefined
}

export function scoreTeam(
  team: string,
  attacks: readonly AttackRecord[],
  all: readonly Finding[],
): TeamScore {
  const findings = all.filter((f) => f.team === team).sort((a, b) => a.receivedAt - b.receivedAt)
  const per = new Map<string, AttackScore>(
    attacks.map((a) => [a.id, { attack: a.id, found: false, duplicates: [] }]),
  )
  const unmatched: string[] = []
  for (const f of findings) {
    const fits = attacks.filter((a) => mismatch(f, a) === undefined)
    if (!fits.length) {
      unmatched.push(f.id)
      continue
    }
    const dist = (a: AttackRecord) => Math.abs(f.time - a.sentAt)
    fits.sort((a, b) => Number(per.get(a.id)?.found) - Number(per.get(b.id)?.found) || dist(a) - dist(b))
    const a = fits[0] as AttackRecord
    const s = per.get(a.id) as AttackScore
    if (s.found) s.duplicates.push(f.id)
    else {
      s.found = true
      s.by = f.id
      s.ttdMs = Math.max(0, f.receivedAt - a.sentAt)
    }
  }
  const scores = [...per.values()]
  const found = scores.filter((s) => s.found)
  const n = attacks.length || 1
  const recall = found.length / n
  const matched = findings.length - unmatched.length
  const precision = findings.length ? matched / findings.length : 0
  const timeliness = found.reduce((sum, s) => sum + speed(s.ttdMs ?? Number.POSITIVE_INFINITY), 0) / n
  const score =
    Math.round(
      1000 * (WEIGHTS.recall * recall + WEIGHTS.precision * precision + WEIGHTS.timeliness * timeliness),
    ) / 10
  return {
    team,
    attacks: scores,
    findings: findings.length,
    matched,
    unmatched,
    recall,
    precision,
    timeliness,
    score,
  }
}

/** The team's finding closest in time to a missed attack, and why it did not count. */
export function nearestFinding(
  a: AttackRecord,
  findings: readonly Finding[],
): { finding: Finding; why: string } | undefined {
  let best: Finding | undefined
  for (const f of findings)
    if (!best || Math.abs(f.time - a.sentAt) < Math.abs(best.time - a.sentAt)) best = f
  if (!best) return undefined
  return { finding: best, why: mismatch(best, a) ?? 'it fits, but an earlier finding had claimed it' }
}
