import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'

// A passing replay of the shipped recording against one whose k8s-secrets-list-by-human rule was emptied out
// (same id, a selection nothing matches: removing the file outright makes the replay refuse the scenarios
// that name it, exit 2): `diff` exits 1 and names the step; `--baseline` on replay does the same in one go.
// Spawns the built CLI (npm test builds first).
const cli = (...args: string[]) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, env: { NO_COLOR: '1' } })
const RECORDING = 'test/fixtures/recordings/t1552.007-local'

describe('purplekind diff and --baseline', async () => {
  const tmp = await mkdtemp(path.join(tmpdir(), 'purplekind-diff-'))
  afterAll(() => rm(tmp, { recursive: true, force: true }))
  const rules = path.join(tmp, 'rules')
  await cp('detections', rules, { recursive: true })
  const file = path.join(rules, 'sigma', 'k8s-secrets-list-by-human.yml')
  await writeFile(file, (await readFile(file, 'utf8')).replace('verb: list', 'verb: never-sent'))
  const base = await cli('--json', 'replay', RECORDING, 'scenarios', '--reports', path.join(tmp, 'a'))
  const head = await cli(
    '--json',
    'replay',
    RECORDING,
    'scenarios',
    '--rules',
    rules,
    '--reports',
    path.join(tmp, 'b'),
  )
  const runDir = (r: typeof base, dir: string) => path.join(tmp, dir, JSON.parse(r.stdout).runId)

  it('the first replay passes, the second has a gap', () => {
    expect([base.exitCode, head.exitCode]).toEqual([0, 1])
  })

  it('diff exits 1 and names the step whose rule no longer fires', async () => {
    const r = await cli('diff', runDir(base, 'a'), runDir(head, 'b'))
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toMatch(/^✖ \d+ regression\(s\) since replay-/)
    expect(r.stdout).toContain(
      't1552.007.list-secrets/list-all-namespaces: rule k8s-secrets-list-by-human no longer fires',
    )
    expect(r.stdout).toContain(
      't1552.007.list-secrets/list-all-namespaces: DETECTED → LOGGED_NOT_ALERTED: no longer meets its expectation',
    )
    const json = await cli('--json', 'diff', runDir(base, 'a'), path.join(runDir(head, 'b'), 'report.json'))
    expect(JSON.parse(json.stdout).regressions).toContainEqual(
      expect.objectContaining({
        step: 't1552.007.list-secrets/list-all-namespaces',
        rule: 'k8s-secrets-list-by-human',
      }),
    )
    expect((await cli('diff', runDir(base, 'a'), runDir(base, 'a'))).exitCode).toBe(0)
  })

  it('replay --baseline exits 1 on the same regression', async () => {
    const r = await cli(
      'replay',
      RECORDING,
      'scenarios',
      '--rules',
      rules,
      '--reports',
      path.join(tmp, 'c'),
      '--baseline',
      runDir(base, 'a'),
    )
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain('list-all-namespaces: rule k8s-secrets-list-by-human no longer fires')
  })

  it('refuses a file that is not a report, naming it (exit 2)', async () => {
    const r = await cli('diff', 'package.json', runDir(base, 'a'))
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/package\.json:.*\[PURPLE_REPORT_INVALID\]/)
    expect(
      JSON.parse(await readFile(path.join(runDir(base, 'a'), 'report.json'), 'utf8')).reportVersion,
    ).toBe(2)
  })
})
