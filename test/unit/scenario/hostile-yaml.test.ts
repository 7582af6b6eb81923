// Issue #8 item 7 for scenarios: hostile YAML ends in a coded PURPLE_SCENARIO_* error naming the file,
// in bounded time, and messages never echo megabytes of the input.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../../src/errors.js'
import { loadScenarios, parseScenario } from '../../../src/scenario/load.js'
import { MAX_SCENARIO_BYTES } from '../../../src/scenario/safe-yaml.js'

const FILE = 'hostile.yaml'
function issuesOf(text: string) {
  const r = parseScenario(text, FILE)
  if (!('issues' in r)) throw new Error('expected issues')
  for (const i of r.issues) expect(i.file).toBe(FILE)
  return r.issues
}

function aliasBomb(levels: number, width: number): string {
  let text = `a0: &a0 [${Array(width).fill('"lol"').join(', ')}]\n`
  for (let i = 1; i <= levels; i++)
    text += `a${i}: &a${i} [${Array(width)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`
  return text
}

describe('hostile scenario YAML', () => {
  it('an alias bomb is refused (billion laughs), quickly', () => {
    const t0 = Date.now()
    const issues = issuesOf(aliasBomb(9, 9))
    expect(issues.map((i) => i.code)).toEqual(['PURPLE_SCENARIO_ALIASES'])
    expect(issues[0]?.message).toMatch(/too many nodes/)
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  it('an unresolved alias is named', () => {
    const issues = issuesOf('apiVersion: *nowhere\n')
    expect(issues.map((i) => i.code)).toEqual(['PURPLE_SCENARIO_ALIASES'])
    expect(issues[0]?.message).toContain('nowhere')
  })

  it('deep flow nesting is refused before the parser recurses', () => {
    for (const depth of [65, 3000, 100_000]) {
      const issues = issuesOf(`steps: ${'['.repeat(depth)}${']'.repeat(depth)}\n`)
      expect(issues.map((i) => i.code)).toEqual(['PURPLE_SCENARIO_TOO_DEEP'])
    }
  })

  it('deep block nesting is refused too', () => {
    let text = ''
    for (let i = 0; i < 200; i++) text += `${' '.repeat(i)}k:\n`
    expect(issuesOf(text).map((i) => i.code)).toEqual(['PURPLE_SCENARIO_TOO_DEEP'])
    let deeper = ''
    for (let i = 0; i < 700; i++) deeper += `${' '.repeat(i)}k:\n`
    expect(issuesOf(deeper).map((i) => i.code)).toEqual(['PURPLE_SCENARIO_TOO_DEEP'])
  })

  it('a huge input is refused by size, before parsing', () => {
    const t0 = Date.now()
    const issues = issuesOf(`metadata:\n  title: "${'x'.repeat(5_000_000)}"\n`)
    expect(issues.map((i) => i.code)).toEqual(['PURPLE_SCENARIO_TOO_LARGE'])
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('a map of many unique keys is parsed in bounded time (the yaml package checks keys quadratically)', () => {
    let text = ''
    for (let i = 0; text.length < MAX_SCENARIO_BYTES - 32; i++) text += `k${i}: 1\n`
    const t0 = Date.now()
    const issues = issuesOf(text)
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(issues.length).toBeLessThanOrEqual(50)
    expect(issues.every((i) => i.code.startsWith('PURPLE_SCENARIO_'))).toBe(true)
  })

  it('duplicate keys are still an error, with their line', () => {
    const issues = issuesOf('kind: Scenario\nkind: Scenario\n')
    expect(issues.map((i) => `${i.path} ${i.code}`)).toEqual(['line 2 PURPLE_SCENARIO_YAML'])
    expect(issues[0]?.message).toBe('duplicate key "kind"')
  })

  it('messages never echo multi-megabyte keys or values', () => {
    const key = 'k'.repeat(200_000)
    const issues = issuesOf(
      `apiVersion: purplekind.io/v1alpha1\nkind: Scenario\n"${key}": 1\nmetadata: {id: "${'A'.repeat(200_000)}"}\n`,
    )
    expect(issues.length).toBeGreaterThan(0)
    for (const i of issues) {
      expect(i.message.length, i.message.slice(0, 80)).toBeLessThan(500)
      expect(i.path.length).toBeLessThan(300)
    }
  })

  describe('from disk', () => {
    let dir: string
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'pk-hostile-'))
    })
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('loadScenarios refuses an oversized file by its size, naming it', async () => {
      const file = path.join(dir, 'big.yaml')
      await writeFile(file, `# ${'x'.repeat(MAX_SCENARIO_BYTES + 10)}\n`)
      const err = await loadScenarios([file]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ValidationError)
      expect((err as ValidationError).issues.map((i) => `${i.file} ${i.code}`)).toEqual([
        `${file} PURPLE_SCENARIO_TOO_LARGE`,
      ])
    })

    it('loadScenarios reports an alias bomb as a coded error, not PURPLE_INTERNAL', async () => {
      const file = path.join(dir, 'bomb.yaml')
      await writeFile(file, aliasBomb(9, 9))
      const err = await loadScenarios([file]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ValidationError)
      expect((err as ValidationError).code).toBe('PURPLE_SCENARIO_ALIASES')
    })
  })
})
