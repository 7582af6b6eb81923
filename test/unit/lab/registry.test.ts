import { describe, expect, it } from 'vitest'
import {
  LAB_PROVIDERS,
  labContextPatterns,
  loadProviders,
  providerDescriptor,
} from '../../../src/lab/registry.js'
import { isLabContextName, LAB_CONTEXT_PATTERNS } from '../../../src/lab/safety.js'

describe('lab provider registry', () => {
  it('loads each provider under its own name; existing only with its options', async () => {
    const loaded = await loadProviders()
    expect(Object.keys(loaded).sort()).toEqual(['kind', 'local'])
    for (const [name, p] of Object.entries(loaded)) expect(p?.name).toBe(name)
    await expect(providerDescriptor('existing')?.load({})).rejects.toMatchObject({ code: 'PURPLE_USAGE' })
  })

  it('is where the safety guard’s lab context names come from', () => {
    expect(LAB_CONTEXT_PATTERNS).toEqual(labContextPatterns())
    expect(isLabContextName('kind-purplekind-default')).toBe(true)
    expect(isLabContextName('purplekind-default')).toBe(true)
    expect(isLabContextName('prod-eks')).toBe(false)
  })

  it('ranks kind before local for --env auto, and never picks existing by itself', () => {
    const ranked = LAB_PROVIDERS.filter((p) => p.autoRank !== undefined)
      .sort((a, b) => (a.autoRank ?? 0) - (b.autoRank ?? 0))
      .map((p) => p.name)
    expect(ranked).toEqual(['kind', 'local'])
    expect(providerDescriptor('existing')?.autoRank).toBeUndefined()
  })
})
