import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { validateXML } from 'xmllint-wasm'
import { reportSchema } from '../../../src/report/report-schema.js'

// Shards of a replay (`--shard i/3`) merged back equal the unsharded replay, step for step.
// Spawns the built CLI (npm test builds first).
const cli = (...args: string[]) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, env: { NO_COLOR: '1' } })
const RECORDING = 'test/fixtures/recordings/t1552.007-local'

type Report = { steps: { scenario: string; step: string; verdict: string; passed: boolean }[] } & Record<
  string,
  unknown
>

describe('merge-reports', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-merge-'))
  afterAll(() => rm(dir, { recursive: true, force: true }))
  const read = async (d: string): Promise<Report> =>
    JSON.parse(await readFile(path.join(dir, d, 'latest', 'report.json'), 'utf8'))
  const full = await cli('--json', 'replay', RECORDING, 'scenarios', '--reports', path.join(dir, 'full'))
  const shards = await Promise.all(
    [1, 2, 3].map((i) =>
      cli(
        '--json',
        'replay',
        RECORDING,
        'scenarios',
        '--shard',
        `${i}/3`,
        '--reports',
        path.join(dir, `s${i}`),
      ),
    ),
  )
  const merged = await cli(
    '--json',
    'merge-reports',
    path.join(dir, 's1'),
    path.join(dir, 's2', 'latest'),
    path.join(dir, 's3', 'latest', 'report.json'),
    '--reports',
    path.join(dir, 'merged'),
  )

  it('every shard is a partial run; together they hold every step once', async () => {
    for (const s of shards) expect(s.exitCode, s.stderr).toBe(0)
    const parts = await Promise.all(['s1', 's2', 's3'].map(read))
    for (const p of parts)
      expect((p.selection as { filters: string[] }).filters[0]).toMatch(/^--shard \d\/3$/)
    const keys = parts.flatMap((p) => p.steps.map((s) => `${s.scenario}/${s.step}`))
    expect(new Set(keys).size).toBe(keys.length)
    expect(keys.length).toBe((await read('full')).steps.length)
  })

  it('the merged run has the full run’s verdicts and summary, no selection, and valid outputs', async () => {
    expect(full.exitCode).toBe(0)
    expect(merged.exitCode, merged.stderr).toBe(0)
    const m = await read('merged')
    const f = await read('full')
    expect(reportSchema.safeParse(m).success).toBe(true)
    const byKey = (r: Report) =>
      Object.fromEntries(r.steps.map((s) => [`${s.scenario}/${s.step}`, [s.verdict, s.passed]]))
    expect(byKey(m)).toEqual(byKey(f))
    expect(m.summary).toEqual(f.summary)
    expect(m.selection).toBeUndefined()
    expect((m.manifest as Record<string, string>).mergedFrom?.split(', ')).toHaveLength(3)
    const md = await readFile(path.join(dir, 'merged', 'latest', 'report.md'), 'utf8')
    expect(md).not.toContain('Partial run')
    const xml = await readFile(path.join(dir, 'merged', 'latest', 'junit.xml'), 'utf8')
    const v = await validateXML({
      xml: [{ fileName: 'junit.xml', contents: xml }],
      schema: [{ fileName: 'junit-10.xsd', contents: await readFile('schemas/junit-10.xsd', 'utf8') }],
    })
    expect(v.errors).toEqual([])
  })

  it('two of three shards merge into a run that still says it is partial', async () => {
    const r = await cli(
      '--json',
      'merge-reports',
      path.join(dir, 's1'),
      path.join(dir, 's2'),
      '--reports',
      path.join(dir, 'two'),
    )
    const m = await read('two')
    expect(r.exitCode).toBe(0)
    expect((m.selection as { filters: string[] }).filters[0]).toMatch(/^merged --shard/)
  })

  it('refuses a shard merged twice and a report that breaks the schema, with coded errors', async () => {
    const twice = await cli('--json', 'merge-reports', path.join(dir, 's1'), path.join(dir, 's1'))
    expect(twice.exitCode).toBe(2)
    expect(JSON.parse(twice.stdout).error).toMatchObject({ code: 'PURPLE_REPORT_INVALID' })
    const bad = path.join(dir, 'bad.json')
    const report = await read('s1')
    await writeFile(bad, JSON.stringify({ ...report, steps: [{ scenario: 1 }] }))
    const invalid = await cli('--json', 'merge-reports', bad)
    expect(invalid.exitCode).toBe(2)
    expect(JSON.parse(invalid.stdout).error.code).toBe('PURPLE_REPORT_INVALID')
    expect(JSON.parse(invalid.stdout).error.message).toContain('bad.json:steps.0')
    const missing = await cli('--json', 'merge-reports', path.join(dir, 'nope'))
    expect(JSON.parse(missing.stdout).error.code).toBe('PURPLE_INPUT_NOT_FOUND')
  })
})
