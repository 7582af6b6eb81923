// The exercise commands as a user runs them (dist/cli/main.js), on a hand-built ended exercise: status,
// debrief with and without the key, record, submit to a real intake, and usage errors before any lab.
import { mkdtempSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { FindingBook, startFindingIntake } from '../../../src/exercise/intake.js'
import { fakeExercise, key } from '../exercise/fixture.js'

const cli = (args: string[], env: Record<string, string> = {}) =>
  execa('node', ['dist/cli/main.js', ...args], {
    reject: false,
    env: { NO_COLOR: '1', PURPLEKIND_INSTRUCTOR_DIR: mkdtempSync(path.join(tmpdir(), 'pk-i-')), ...env },
  })

describe('purplekind exercise', () => {
  it('status shows progress; debrief needs the key and names the missed attacks', async () => {
    const { dir } = await fakeExercise()
    const status = await cli(['exercise', 'status', '--dir', dir])
    expect(status.exitCode).toBe(0)
    expect(status.stdout).toContain('exercise ex-test: ended')
    expect(status.stdout).toContain('team blue: 0 finding(s) submitted')
    const noKey = await cli(['exercise', 'debrief', '--dir', dir])
    expect(noKey.exitCode).toBe(2)
    expect(noKey.stderr).toMatch(/cannot read the key of exercise ex-test .*\[PURPLE_INPUT_NOT_FOUND\]/)
    const keyFile = path.join(dir, '..', `${path.basename(dir)}.key`)
    await writeFile(keyFile, key.toString('hex'), { mode: 0o600 })
    const wrong = path.join(dir, '..', `${path.basename(dir)}.wrong`)
    await writeFile(wrong, Buffer.alloc(32, 9).toString('hex'))
    const bad = await cli(['exercise', 'debrief', '--dir', dir, '--key-file', wrong])
    expect(bad.stderr).toMatch(/wrong key or the file was changed/)
    const ok = await cli(['exercise', 'debrief', '--dir', dir, '--key-file', keyFile])
    expect(ok.exitCode, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(
      /team quiet: score 0 .* missed: a\d+ list-one-namespace, a\d+ least-privilege-user/,
    )
    const json = await cli(['--json', 'exercise', 'debrief', '--dir', dir, '--key-file', keyFile])
    expect(JSON.parse(json.stdout).teams.map((t: { team: string }) => t.team)).toEqual(['blue', 'quiet'])
    const rec = path.join(mkdtempSync(path.join(tmpdir(), 'pk-r-')), 'rec')
    const recorded = await cli(['exercise', 'record', '--dir', dir, '--out', rec])
    expect(recorded.exitCode, recorded.stderr).toBe(0)
    expect(readFileSync(path.join(rec, 'plan.sealed'), 'utf8')).toBe(
      readFileSync(path.join(dir, 'plan.sealed'), 'utf8'),
    )
  })

  it('submit posts a hand-written finding with the team token', async () => {
    const book = new FindingBook()
    const intake = await startFindingIntake({
      port: 0,
      teams: { alpha: 'alpha-token-1234567890' },
      book,
      now: () => 42,
      log: () => undefined,
    })
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'pk-t-'))
      const tokenFile = path.join(dir, 'alpha.token')
      await writeFile(tokenFile, 'alpha-token-1234567890\n')
      const r = await cli([
        'exercise',
        'submit',
        '--url',
        intake.url,
        '--token-file',
        tokenFile,
        '--time',
        '2026-11-30T10:03:12Z',
        '--actor',
        'mallory@example.com',
        '--technique',
        'T1552.007',
        '--note',
        'secrets dumped',
      ])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toContain('finding f001 submitted')
      expect(book.findings[0]).toMatchObject({
        team: 'alpha',
        via: 'manual',
        actor: 'mallory@example.com',
        time: Date.parse('2026-11-30T10:03:12Z'),
      })
      const refused = await cli([
        'exercise',
        'submit',
        '--url',
        intake.url,
        '--token',
        'nope-nope-nope-nope',
        '--time',
        '1',
        '--actor',
        'x',
      ])
      expect(refused.exitCode).toBe(2)
      expect(refused.stderr).toMatch(/HTTP 401/)
    } finally {
      await intake.stop()
    }
  })

  it('start refuses bad flags before touching a lab', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'pk-s-')), 'ex')
    const bad = await cli(['exercise', 'start', '--difficulty', 'insane', '--dir', dir])
    expect(bad.stderr).toMatch(/--difficulty must be one of easy, normal, hard \[PURPLE_USAGE\]/)
    const far = await cli([
      'exercise',
      'start',
      '--forward-hec',
      'http://10.1.2.3:8088/services/collector',
      '--dir',
      dir,
    ])
    expect(far.stderr).toMatch(/loopback endpoints only/)
    const seed = await cli(['exercise', 'start', '--seed', 'abc', '--dir', dir])
    expect(seed.stderr).toMatch(/--seed must be a whole number/)
    const none = await cli(['exercise', 'start', '--only', 'nothing-like-this', '--dir', dir])
    expect(none.stderr).toMatch(/no scenario matches/)
    for (const r of [bad, far, seed, none]) expect(r.exitCode).toBe(2)
  })
})
