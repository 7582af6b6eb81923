import { describe, expect, it } from 'vitest'
import {
  type AttackRecord,
  actorFits,
  type Finding,
  nearestFinding,
  scoreTeam,
  speed,
  techniqueFits,
} from '../../../src/exercise/score.js'

const T0 = Date.parse('2026-11-30T10:00:00Z')
const attack = (id: string, at: number, o: Partial<AttackRecord> = {}): AttackRecord => ({
  id,
  scenario: 't1552.007.list-secrets',
  step: `step-${id}`,
  title: id,
  techniques: ['T1552.007'],
  identity: 'mallory@example.com',
  command: 'kubectl get secrets -A',
  sentAt: T0 + at,
  endedAt: T0 + at + 500,
  exitCode: 0,
  auditIDs: [`audit-${id}`],
  ...o,
})
let n = 0
const finding = (o: Partial<Finding>): Finding => ({
  id: `f${++n}`,
  team: 'blue',
  via: 'alert',
  receivedAt: T0,
  time: T0,
  ...o,
})

const attacks = [
  attack('a1', 10_000),
  attack('a2', 60_000, {
    identity: 'system:serviceaccount:purple-app:web',
    techniques: ['T1552.007', 'T1609'],
  }),
  attack('a3', 120_000),
  attack('a4', 200_000),
]

describe('scoreTeam', () => {
  it('matches by audit ID, counts a false finding against precision, and applies the documented formula', () => {
    const fs = [
      finding({ auditID: 'audit-a1', time: T0 + 10_100, receivedAt: T0 + 12_000 }), // caught in 2 s
      finding({ auditID: 'audit-a3', time: T0 + 120_100, receivedAt: T0 + 120_000 + 180_000 }), // 3 min late
      finding({ auditID: 'audit-bg', time: T0 + 50_000, receivedAt: T0 + 51_000 }), // background: false
    ]
    const s = scoreTeam('blue', attacks, fs)
    expect(s.recall).toBe(0.5)
    expect(s.precision).toBeCloseTo(2 / 3)
    // timeliness: (1 + speed(180 s)) / 4; speed(180 s) = 1 − 120/840
    const timeliness = (1 + (1 - 120 / 840)) / 4
    expect(s.timeliness).toBeCloseTo(timeliness)
    expect(s.score).toBe(Math.round(1000 * (0.5 * 0.5 + 0.3 * (2 / 3) + 0.2 * timeliness)) / 10)
    expect(s.unmatched).toEqual([fs[2]?.id])
    expect(s.attacks.find((a) => a.attack === 'a1')).toMatchObject({
      found: true,
      by: fs[0]?.id,
      ttdMs: 2000,
    })
    expect(s.attacks.find((a) => a.attack === 'a2')?.found).toBe(false)
  })

  it('an audit ID that belongs to no attack never falls back to time', () => {
    const s = scoreTeam('blue', attacks, [
      finding({ auditID: 'other', time: T0 + 10_000, actor: 'mallory', technique: 'T1552.007' }),
    ])
    expect(s.matched).toBe(0)
  })

  it('matches by time with an actor or technique, within −5 s/+15 s', () => {
    const s = scoreTeam('blue', attacks, [
      finding({
        via: 'manual',
        time: T0 + 60_000 + 12_000,
        actor: 'purple-app/web',
        receivedAt: T0 + 90_000,
      }),
      finding({ via: 'manual', time: T0 + 200_000 - 4_000, technique: 'T1552', receivedAt: T0 + 210_000 }),
      finding({ via: 'manual', time: T0 + 120_000 + 30_000, actor: 'mallory', receivedAt: T0 + 151_000 }), // too late
      finding({ via: 'manual', time: T0 + 10_000 }), // names nothing
    ])
    expect(s.attacks.filter((a) => a.found).map((a) => a.attack)).toEqual(['a2', 'a4'])
    expect(s.unmatched).toHaveLength(2)
  })

  it('the first finding of an attack catches it; later ones are duplicates, not false', () => {
    const first = finding({ auditID: 'audit-a1', receivedAt: T0 + 11_000 })
    const again = finding({ auditID: 'audit-a1', receivedAt: T0 + 13_000 })
    const s = scoreTeam('blue', attacks, [again, first])
    expect(s.attacks[0]).toMatchObject({ by: first.id, duplicates: [again.id] })
    expect(s.precision).toBe(1)
    expect(s.recall).toBe(0.25)
  })

  it('scores teams separately and gives 0 to a silent team', () => {
    const s = scoreTeam('red', attacks, [finding({ auditID: 'audit-a1' })])
    expect(s).toMatchObject({ findings: 0, recall: 0, precision: 0, score: 0 })
  })

  it('names the nearest finding of a missed attack and why it did not count', () => {
    const f = finding({ time: T0 + 130_000, actor: 'dana@example.com' })
    const near = nearestFinding(attacks[2] as AttackRecord, [f])
    expect(near?.why).toMatch(/actor "dana@example.com" is not mallory@example.com/)
  })
})

describe('helpers', () => {
  it('speed is 1 up to a minute and 0 from 15 minutes', () => {
    expect(speed(0)).toBe(1)
    expect(speed(60_000)).toBe(1)
    expect(speed(15 * 60_000)).toBe(0)
    expect(speed(8 * 60_000)).toBeCloseTo(0.5)
  })
  it('actors and techniques fit loosely but not wrongly', () => {
    expect(actorFits('Mallory', 'mallory@example.com')).toBe(true)
    expect(actorFits('system:serviceaccount:purple-app:web', 'system:serviceaccount:purple-app:web')).toBe(
      true,
    )
    expect(actorFits('dana', 'mallory@example.com')).toBe(false)
    expect(techniqueFits('T1552', ['T1552.007'])).toBe(true)
    expect(techniqueFits('t1609', ['T1552.007', 'T1609'])).toBe(true)
    expect(techniqueFits('T1552.001', ['T1552.007'])).toBe(false)
  })
})
