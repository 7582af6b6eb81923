import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { validateXML } from 'xmllint-wasm'

// The shipped recording replayed with a scenario it never saw: the new steps must be gaps (exit 1) named
// in all four outputs, never silently left out. Spawns the built CLI (npm test builds first).
const cli = (...args: string[]) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, env: { NO_COLOR: '1' } })

const RECORDING = 'test/fixtures/recordings/t1552.007-local'

describe('replay of a recording that lacks a scenario', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-gaps-'))
  afterAll(() => rm(dir, { recursive: true, force: true }))
  const r = await cli(
    '--json',
    'replay',
    RECORDING,
    'scenarios/t1552.007',
    'test/fixtures/scenarios/valid-minimal.yaml',
    '--reports',
    dir,
  )
  const out = JSON.parse(r.stdout) as { runId: string; summary: Record<string, number>; exitCode: number }
  const read = (f: string) => readFile(path.join(dir, 'latest', f), 'utf8')

  it('exits 1 and counts the step as not recorded', () => {
    expect(r.exitCode).toBe(1)
    expect(out.summary).toMatchObject({ notRecorded: 1, skipped: 1, steps: 25, missed: 0 })
  })

  it('names the missing step in report.json, report.md, junit.xml and the Navigator layer', async () => {
    const json = JSON.parse(await read('report.json'))
    expect(json.steps).toContainEqual(
      expect.objectContaining({ scenario: 'minimal', step: 'list', verdict: 'NOT_RECORDED', passed: false }),
    )
    expect(json.scenarios.map((s: { id: string }) => s.id)).toContain('minimal')
    const md = await read('report.md')
    expect(md).toMatch(/## Gaps\n\n### ❔ `minimal\/list`: list secrets/)
    const junit = await read('junit.xml')
    expect(junit).toMatch(
      /<testcase classname="minimal" name="list list secrets"[^>]*>\n\s*<failure[^>]*type="NOT_RECORDED"/,
    )
    const layer = JSON.parse(await read('navigator-layer.json'))
    const t = layer.techniques.find((x: { techniqueID: string }) => x.techniqueID === 'T1552.007')
    expect(t.metadata[0].value).toContain('minimal/list (NOT_RECORDED)')
  })

  it('reports the step the recording lab skipped as SKIPPED with its reason, in junit too', async () => {
    const json = JSON.parse(await read('report.json'))
    expect(json.steps).toContainEqual(
      expect.objectContaining({
        step: 'imds-blocked',
        verdict: 'SKIPPED',
        passed: true,
        explanation: 'skipped when recorded: the local lab lacks networkPolicy',
      }),
    )
    expect(await read('junit.xml')).toContain(
      '<skipped message="skipped when recorded: the local lab lacks networkPolicy"/>',
    )
  })

  it('writes a junit.xml the strict JUnit XSD accepts', async () => {
    const r = await validateXML({
      xml: [{ fileName: 'junit.xml', contents: await read('junit.xml') }],
      schema: [{ fileName: 'junit-10.xsd', contents: await readFile('schemas/junit-10.xsd', 'utf8') }],
    })
    expect(r.errors).toEqual([])
  })
})
