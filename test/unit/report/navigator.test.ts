import { describe, expect, it } from 'vitest'
import { ATTACK_VERSION, TECHNIQUE_TACTICS } from '../../../src/report/attack-tactics.generated.js'
import { NAVIGATOR_VERSIONS, renderNavigatorLayer, tacticShortname } from '../../../src/report/navigator.js'
import { RUN_ID, runResult } from '../../fixtures/report/run-result.js'

interface Technique {
  techniqueID: string
  tactic?: string
  score?: number
  comment: string
}

describe('renderNavigatorLayer', () => {
  const layer = JSON.parse(renderNavigatorLayer(runResult()))
  const technique = (id: string): Technique => layer.techniques.find((t: Technique) => t.techniqueID === id)

  it('is an enterprise layer in format 4.5 with run metadata and a 0–100 gradient', () => {
    expect(layer.versions).toEqual(NAVIGATOR_VERSIONS)
    expect(layer.versions.layer).toBe('4.5')
    expect(layer.domain).toBe('enterprise-attack')
    expect(layer.name).toContain(RUN_ID)
    expect(layer.metadata).toContainEqual({ name: 'run id', value: RUN_ID })
    expect(layer.gradient).toMatchObject({ minValue: 0, maxValue: 100 })
    expect(layer.gradient.colors).toHaveLength(3)
  })

  it('has one entry per technique seen, with sub-technique ids kept whole', () => {
    expect(layer.techniques.map((t: Technique) => t.techniqueID)).toEqual(['T1552.005', 'T1552.007', 'T1609'])
  })

  it('scores by the share of attack steps detected or blocked (late counts half)', () => {
    // T1552.007 attack steps: DETECTED×2, BLOCKED, DETECTED_LATE, LOGGED_NOT_ALERTED, NOT_LOGGED, NOT_RECORDED → 3.5/7
    expect(technique('T1552.007').score).toBe(50)
    expect(technique('T1552.005').score).toBe(0)
    expect(technique('T1609').score).toBe(0)
    expect(technique('T1552.007').comment).toBe(
      '4/7 attack steps detected or blocked; attack: DETECTED×2, DETECTED_LATE×1, BLOCKED×1, ' +
        'LOGGED_NOT_ALERTED×1, NOT_LOGGED×1, NOT_RECORDED×1; benign: PASSED_BENIGN×1, NOISY×1, FALSE_POSITIVE×1',
    )
  })

  it('scores 100 when every attack step was caught, and leaves benign-only techniques unscored', () => {
    const result = runResult()
    result.steps = result.steps.map((s) => (s.kind === 'attack' ? { ...s, verdict: 'DETECTED' as const } : s))
    result.steps.push({ ...result.steps[4]!, step: 'benign-only', techniques: ['T1613'] })
    const l = JSON.parse(renderNavigatorLayer(result))
    const t = (id: string) => l.techniques.find((x: Technique) => x.techniqueID === id)
    expect(t('T1552.007').score).toBe(100)
    expect(t('T1613')).not.toHaveProperty('score')
  })

  it("places each technique under its own ATT&CK tactics (T1609 under execution), whatever the scenario's tactic", () => {
    expect(technique('T1609').tactic).toBe('execution')
    expect(technique('T1552.007').tactic).toBe('credential-access')
    const multi = runResult()
    multi.steps[0]!.techniques = ['T1078']
    const entries = JSON.parse(renderNavigatorLayer(multi)).techniques.filter(
      (t: Technique) => t.techniqueID === 'T1078',
    )
    expect(entries.map((t: Technique) => t.tactic).sort()).toEqual([
      'defense-evasion',
      'initial-access',
      'persistence',
      'privilege-escalation',
    ])
    expect(new Set(entries.map((t: Technique) => t.score))).toEqual(new Set([100]))
  })

  it('scores a technique only from the steps that exercise it, not from every step of its scenario', () => {
    const result = runResult()
    // The scenario names T1078, but only the BLOCKED step exercises it.
    result.scenarios[0]!.techniques.push('T1078')
    result.steps[2]!.techniques = ['T1078']
    const t = JSON.parse(renderNavigatorLayer(result)).techniques.find(
      (x: Technique) => x.techniqueID === 'T1078',
    )
    expect(t.score).toBe(100)
    expect(t.comment).toMatch(/^1\/1 attack steps/)
  })

  it('falls back to the scenario tactic, by id or by name, for a technique ATT&CK does not list', () => {
    const result = runResult()
    result.scenarios[2]!.techniques = ['T9999']
    result.steps[7]!.techniques = ['T9999']
    const t = JSON.parse(renderNavigatorLayer(result)).techniques.find(
      (x: Technique) => x.techniqueID === 'T9999',
    )
    expect(t.tactic).toBe('credential-access') // the scenario says TA0006
    expect(tacticShortname('Credential Access')).toBe('credential-access')
    expect(tacticShortname('ta0007')).toBe('discovery')
    expect(tacticShortname('Container API')).toBeUndefined()
  })

  it('leaves skipped steps out of the score and says so', () => {
    expect(technique('T1552.005').comment).toMatch(/^0\/1 attack steps detected or blocked; 1 skipped/)
  })
})

describe('the generated ATT&CK technique → tactic table', () => {
  it('states its ATT&CK version and maps known techniques to their tactics', () => {
    expect(ATTACK_VERSION).toMatch(/^\d+\.\d+$/)
    expect(NAVIGATOR_VERSIONS.attack).toBe(ATTACK_VERSION.split('.')[0])
    expect(TECHNIQUE_TACTICS['T1609']).toEqual(['execution'])
    expect(TECHNIQUE_TACTICS['T1552.007']).toEqual(['credential-access'])
    expect(TECHNIQUE_TACTICS['T1610']).toEqual(expect.arrayContaining(['execution', 'defense-evasion']))
    expect(Object.keys(TECHNIQUE_TACTICS).length).toBeGreaterThan(600)
  })
})
