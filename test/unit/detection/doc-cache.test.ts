import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cachedDocuments } from '../../../src/detection/sigma/doc-cache.js'
import { parseSigma } from '../../../src/detection/sigma/index.js'

const RULE = `title: Secret read
id: 6f1c0d6e-0000-4000-8000-000000000001
logsource: {product: kubernetes, service: audit}
detection:
  selection: {verb: get, objectRef.resource: secrets}
  condition: selection
level: high
`

describe('Sigma document cache', () => {
  const saved = { cache: process.env.PURPLEKIND_CACHE, off: process.env.PURPLEKIND_RULE_CACHE }
  let dir: string
  const entries = async () => readdir(join(dir, 'sigma-docs-v1')).catch(() => [] as string[])

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pk-doc-cache-'))
    process.env.PURPLEKIND_CACHE = dir
    delete process.env.PURPLEKIND_RULE_CACHE
  })
  afterEach(async () => {
    for (const [key, value] of [
      ['PURPLEKIND_CACHE', saved.cache],
      ['PURPLEKIND_RULE_CACHE', saved.off],
    ] as const) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('stores a parsed file and answers the same text from the cache afterwards', async () => {
    expect(cachedDocuments(RULE)).toBeUndefined()
    const first = parseSigma(RULE, 'r.yml')
    const [name] = await entries()
    expect(name).toMatch(/^[0-9a-f]{64}\.json$/)
    expect(cachedDocuments(RULE)).toEqual([expect.objectContaining({ title: 'Secret read', level: 'high' })])
    // Prove the second parse reads the entry: doctor it and see the doctored title come back.
    const file = join(dir, 'sigma-docs-v1', name!)
    await writeFile(file, (await readFile(file, 'utf8')).replace('Secret read', 'From the cache'))
    const second = parseSigma(RULE, 'r.yml')
    expect(second.rules[0]!.title).toBe('From the cache')
    expect(second.rules[0]!.id).toBe(first.rules[0]!.id)
  })

  it('treats a corrupt entry as a miss', async () => {
    parseSigma(RULE, 'r.yml')
    const [name] = await entries()
    await writeFile(join(dir, 'sigma-docs-v1', name!), '{"not": "an array"')
    expect(cachedDocuments(RULE)).toBeUndefined()
    expect(parseSigma(RULE, 'r.yml').rules[0]!.title).toBe('Secret read')
  })

  it('stores nothing for a file with issues, or whose documents JSON cannot hold', async () => {
    expect(() => parseSigma('title: [unclosed\n', 'bad.yml')).toThrow()
    expect(() => parseSigma(`${RULE}title: twice\n`, 'dup.yml')).toThrow()
    // .inf is a YAML float JSON has no spelling for.
    parseSigma(RULE.replace('level: high', 'level: high\ncustom: .inf'), 'inf.yml')
    expect(await entries()).toEqual([])
  })

  it('is skipped with PURPLEKIND_RULE_CACHE=off, and an unwritable cache only costs the parse', async () => {
    process.env.PURPLEKIND_RULE_CACHE = 'off'
    parseSigma(RULE, 'r.yml')
    expect(await entries()).toEqual([])
    delete process.env.PURPLEKIND_RULE_CACHE
    await writeFile(join(dir, 'sigma-docs-v1'), 'a file where the cache directory should be')
    expect(parseSigma(RULE, 'r.yml').rules[0]!.title).toBe('Secret read')
  })
})
