import { describe, expect, it } from 'vitest'
import { BACKGROUND_SCENARIO_ID } from '../../../src/exercise/background.js'
import { attackChains, buildPlan, type PlanOptions, parseSeed } from '../../../src/exercise/plan.js'
import { createRng } from '../../../src/exercise/prng.js'
import { loadScenarios } from '../../../src/scenario/load.js'

const caps = { realPods: false, networkPolicy: false, docker: false }
const scenarios = await loadScenarios(['scenarios'])
const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({
  seed: 7,
  durationMs: 300_000,
  difficulty: 'normal',
  scenarios,
  capabilities: caps,
  ...o,
})

describe('prng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const seq = (seed: number) => Array.from({ length: 5 }, createRng(seed).next)
    expect(seq(7)).toEqual(seq(7))
    expect(seq(7)).not.toEqual(seq(8))
    // Seeds above 2^32 are not truncated to the same state.
    expect(seq(2 ** 32 + 7)).not.toEqual(seq(7))
  })

  it('is roughly uniform, and int() covers both ends', () => {
    const rng = createRng(42)
    let sum = 0
    const seen = new Set<number>()
    for (let i = 0; i < 20_000; i++) {
      sum += rng.next()
      seen.add(rng.int(1, 6))
    }
    expect(sum / 20_000).toBeGreaterThan(0.48)
    expect(sum / 20_000).toBeLessThan(0.52)
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('exponential() has the requested mean', () => {
    const rng = createRng(3)
    let sum = 0
    for (let i = 0; i < 20_000; i++) sum += rng.exponential(6)
    expect(sum / 20_000).toBeGreaterThan(5.7)
    expect(sum / 20_000).toBeLessThan(6.3)
  })
})

describe('buildPlan', () => {
  it('gives the same plan for the same seed and another for another seed', () => {
    const a = buildPlan(opts())
    expect(JSON.stringify(buildPlan(opts()))).toBe(JSON.stringify(a))
    expect(JSON.stringify(buildPlan(opts({ seed: 8 })))).not.toBe(JSON.stringify(a))
  })

  it('places attacks inside the exercise among background traffic, in time order', () => {
    const plan = buildPlan(opts())
    const attacks = plan.actions.filter((a) => a.kind === 'attack')
    expect(attacks.length).toBeGreaterThanOrEqual(5)
    for (const a of attacks) {
      expect(a.atMs).toBeGreaterThanOrEqual(0.1 * plan.durationMs)
      expect(a.atMs).toBeLessThan(plan.durationMs)
      expect(a.step.kind).toBe('attack')
    }
    const times = plan.actions.map((a) => a.atMs)
    expect(times).toEqual([...times].sort((x, y) => x - y))
    expect(plan.actions.filter((a) => a.kind === 'background').length).toBeGreaterThan(20)
    expect(plan.actions.filter((a) => a.kind === 'lookalike').length).toBeGreaterThan(0)
    expect(plan.scenarios[0]).toBe(BACKGROUND_SCENARIO_ID)
    expect(new Set(plan.actions.map((a) => a.id)).size).toBe(plan.actions.length)
  })

  it('never plans a step the lab cannot run', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const plan = buildPlan(opts({ seed }))
      for (const a of plan.actions) {
        expect(a.step.run[0]).not.toBe('docker')
        expect(a.step.requires ?? []).not.toContain('networkPolicy')
      }
    }
  })

  it('keeps a captured token before the step that uses it', () => {
    const exec = scenarios.filter((s) => s.metadata.id.endsWith('exec-sa-token'))
    const chains = attackChains(exec[0]!, caps)
    expect(chains.map((c) => c.steps.map((s) => s.id))).toEqual([['read-token', 'use-token']])
    const plan = buildPlan(opts({ scenarios: exec, durationMs: 60_000 }))
    const use = plan.actions.find((a) => a.step.id === 'use-token')!
    const read = plan.actions.find((a) => a.id === use.after)!
    expect(read.step.id).toBe('read-token')
    expect(read.atMs).toBeLessThan(use.atMs)
  })

  it('selects by --only and --technique', () => {
    const plan = buildPlan(opts({ only: ['list-secrets'] }))
    expect(new Set(plan.actions.filter((a) => a.kind !== 'background').map((a) => a.scenario))).toEqual(
      new Set(['t1552.007.list-secrets']),
    )
    const t1609 = buildPlan(opts({ techniques: ['T1609'] }))
    expect(
      t1609.actions.filter((a) => a.kind === 'attack').every((a) => a.techniques.includes('T1609')),
    ).toBe(true)
    expect(() => buildPlan(opts({ only: ['nope'] }))).toThrow(/no scenario matches/)
  })

  it('makes harder exercises noisier, with near look-alikes only on hard', () => {
    const count = (d: 'easy' | 'normal' | 'hard') =>
      buildPlan(opts({ difficulty: d })).actions.filter((a) => a.kind === 'background')
    expect(count('easy').length).toBeLessThan(count('normal').length)
    expect(count('normal').length).toBeLessThan(count('hard').length)
    expect(count('normal').some((a) => a.step.id.includes('developer-list-secrets'))).toBe(false)
    expect(count('hard').some((a) => a.step.id.includes('developer-list-secrets'))).toBe(true)
  })

  it('honours --attacks and refuses nonsense', () => {
    expect(
      buildPlan(opts({ attacks: 2, only: ['list-secrets'] })).actions.filter((a) => a.kind === 'attack'),
    ).toHaveLength(2)
    expect(() => buildPlan(opts({ durationMs: 10_000 }))).toThrow(/at least 30s/)
    expect(() => parseSeed('-1')).toThrow(/whole number/)
    expect(parseSeed('7')).toBe(7)
  })
})
