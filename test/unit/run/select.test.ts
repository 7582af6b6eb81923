import { describe, expect, it } from 'vitest'
import { PurpleError } from '../../../src/errors.js'
import { globMatch, parseShard, selectScenarios, shardOf } from '../../../src/run/select.js'
import { loadScenarios } from '../../../src/scenario/load.js'

const all = await loadScenarios(['scenarios'])
const ids = (r: { scenarios: { metadata: { id: string }; steps: { id: string }[] }[] }) =>
  r.scenarios.flatMap((s) => s.steps.map((st) => `${s.metadata.id}/${st.id}`))
const total = all.reduce((n, s) => n + s.steps.length, 0)

describe('globMatch', () => {
  it.each([
    ['t1552.007.*', 't1552.007.read-secret', true],
    ['*read*', 't1552.007.read-secret', true],
    ['list-?ll-*', 'list-all-namespaces', true],
    ['list-?ll-*', 'list-one-namespace', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['*', '', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['t1552.007', 't1552x007', false], // '.' is literal, not "any character"
  ])('%s vs %s → %s', (g, t, want) => {
    expect(globMatch(g, t)).toBe(want)
  })

  it('stays linear on a pattern that makes backtracking regexes explode', () => {
    const text = 'a'.repeat(20_000)
    const started = performance.now()
    expect(globMatch(`${'*a'.repeat(30)}b`, text)).toBe(false)
    expect(performance.now() - started).toBeLessThan(5000) // generous: 2 shared cores
  })
})

describe('selectScenarios', () => {
  it('selects nothing away without flags and reports no selection', () => {
    const r = selectScenarios(all, {})
    expect(r.selection).toBeUndefined()
    expect(ids(r)).toHaveLength(total)
  })

  it('--only scenario/step globs pick steps; the selection names itself and counts steps', () => {
    const r = selectScenarios(all, { only: ['t1552.007.list-secrets/list-*', 't1552.007.docker-logs'] })
    expect(ids(r)).toEqual([
      't1552.007.list-secrets/list-all-namespaces',
      't1552.007.list-secrets/list-one-namespace',
      't1552.007.docker-logs/logs-of-leaky-container',
      't1552.007.docker-logs/logs-of-quiet-container',
    ])
    expect(r.selection).toEqual({
      filters: ['--only t1552.007.list-secrets/list-*', '--only t1552.007.docker-logs'],
      selectedSteps: 4,
      definedSteps: total,
      prerequisites: [],
    })
  })

  it('a selected step that uses a captured token brings the capturing step along, named', () => {
    const r = selectScenarios(all, { only: ['*exec-sa-token/use-token'] })
    expect(ids(r)).toEqual(['t1552.007.exec-sa-token/read-token', 't1552.007.exec-sa-token/use-token'])
    expect(r.selection?.prerequisites).toEqual(['t1552.007.exec-sa-token/read-token'])
  })

  it('--technique matches step techniques and sub-techniques; T1609 is only the exec steps', () => {
    const t1609 = ids(selectScenarios(all, { technique: ['T1609'] }))
    expect(t1609.length).toBeGreaterThan(0)
    expect(t1609.every((id) => id.includes('exec') || id.includes('imds') || id.includes('aws'))).toBe(true)
    // A docker step of a scenario that also names T1078 is not T1078 coverage (steps carry their own).
    const t1552 = selectScenarios(all, { technique: ['T1552'] })
    expect(t1552.selection?.selectedSteps).toBeGreaterThan(0)
    expect(ids(t1552)).toContain('t1552.007.list-secrets/list-all-namespaces')
  })

  it('--tag selects tagged scenarios; flags of different kinds narrow each other', () => {
    expect(ids(selectScenarios(all, { tag: ['docker'] }))).toEqual([
      't1552.007.docker-logs/logs-of-leaky-container',
      't1552.007.docker-logs/logs-of-quiet-container',
    ])
    expect(ids(selectScenarios(all, { tag: ['docker', 'cloud'] })).length).toBeGreaterThan(2)
    expect(ids(selectScenarios(all, { tag: ['docker'], only: ['*/*quiet*'] }))).toEqual([
      't1552.007.docker-logs/logs-of-quiet-container',
    ])
  })

  it('a filter matching nothing is a usage error, not an empty pass', () => {
    const err = (() => {
      try {
        selectScenarios(all, { only: ['no-such-*'] })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(PurpleError)
    expect((err as PurpleError).code).toBe('PURPLE_USAGE')
  })
})

describe('--shard', () => {
  it('splits the scenarios into disjoint shards that cover all of them, the same way every time', () => {
    for (const n of [1, 2, 3, 7, 10]) {
      const shards = Array.from({ length: n }, (_, i) =>
        ids(selectScenarios(all, { shard: `${i + 1}/${n}` })),
      )
      expect(shards.flat().sort()).toEqual(ids(selectScenarios(all, {})).sort())
      expect(new Set(shards.flat()).size).toBe(total)
      const again = Array.from({ length: n }, (_, i) => ids(selectScenarios(all, { shard: `${i + 1}/${n}` })))
      expect(again).toEqual(shards)
    }
  })

  it('keeps a scenario on its shard when other scenarios come and go (hash of the id)', () => {
    const fewer = all.slice(2)
    for (const s of fewer) expect(shardOf(s.metadata.id, 3)).toBe(shardOf(s.metadata.id, 3))
    const a = ids(selectScenarios(all, { shard: '2/3' })).filter((id) =>
      fewer.some((s) => id.startsWith(`${s.metadata.id}/`)),
    )
    expect(ids(selectScenarios(fewer, { shard: '2/3' }))).toEqual(a)
  })

  it.each(['0/2', '3/2', '1/0', 'a/b', '1-2', '1/2/3'])('refuses --shard %s', (text) => {
    expect(() => parseShard(text)).toThrow(PurpleError)
  })
})
