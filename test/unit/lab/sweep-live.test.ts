// `sweep --older-than` and the run lock: a run in progress (its journal's pid alive with the same
// /proc start time) keeps its host resources and its labelled lab objects, whatever their age.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { parseAge } from '../../../src/cli/commands/lab.js'
import { liveRuns, openRunJournal, sweepJournals } from '../../../src/lab/journal.js'
import { planSweep, type SweepItem } from '../../../src/lab/sweep.js'

const home = mkdtempSync(join(tmpdir(), 'pk-sweep-live-'))
afterAll(() => rmSync(home, { recursive: true, force: true }))
const now = Date.now()
const hoursAgo = (h: number) => now - h * 3600_000

/** A journal whose header names a process that is not alive (a crashed run). */
function deadJournal(runId: string, path: string, ageHours: number): string {
  const j = openRunJournal(home, runId)
  j.record({ kind: 'path', path })
  const lines = readFileSync(j.file, 'utf8').split('\n')
  lines[0] = JSON.stringify({ kind: 'run', runId, pid: 4194303, startTime: '1' })
  writeFileSync(j.file, lines.join('\n'))
  const t = new Date(hoursAgo(ageHours))
  utimesSync(j.file, t, t)
  return j.file
}

describe('the run lock', () => {
  it('a running harness is live; killed, it is not (the journal header is the lock)', async () => {
    const script = `
      const { openRunJournal } = await import(${JSON.stringify(join(process.cwd(), 'dist/lab/journal.js'))})
      openRunJournal(process.argv[1], 'running-run')
      console.log('ready')
      setInterval(() => {}, 1000)`
    const harness = execa('node', ['--input-type=module', '-e', script, home], { reject: false })
    await new Promise((resolve) => harness.stdout?.once('data', resolve))
    expect(liveRuns(home).has('running-run')).toBe(true)
    harness.kill('SIGKILL')
    await harness
    expect(liveRuns(home).has('running-run')).toBe(false)
    expect((await sweepJournals(home, { dryRun: false })).runs).toEqual(['running-run'])
  })

  it("planSweep never touches a live run's objects, however old; others go as usual", () => {
    const items: SweepItem[] = [
      { kind: 'Namespace', name: 'purple-app', createdMs: hoursAgo(30), runId: 'live-1' },
      { kind: 'Pod', name: 'web-0', namespace: 'purple-app', createdMs: hoursAgo(30), runId: 'live-1' },
      { kind: 'ClusterRole', name: 'reader', createdMs: hoursAgo(30), runId: 'live-1' },
      { kind: 'Namespace', name: 'purple-old', createdMs: hoursAgo(30), runId: 'dead-1' },
      { kind: 'docker/container', name: 'purple-victim', createdMs: hoursAgo(30), runId: 'live-1' },
      { kind: 'docker/container', name: 'purple-quiet', createdMs: hoursAgo(30), runId: 'dead-1' },
    ]
    const plan = planSweep(items, { now, liveRuns: new Set(['live-1']) })
    expect(plan.map((i) => i.name)).toEqual(['purple-old', 'purple-quiet'])
  })
})

describe('sweep --older-than', () => {
  it('sweeps journals of dead runs last written long enough ago, keeps younger ones', async () => {
    const oldDir = join(home, 'old-secrets')
    const newDir = join(home, 'new-secrets')
    mkdirSync(oldDir)
    mkdirSync(newDir)
    deadJournal('old-run', oldDir, 5)
    deadJournal('new-run', newDir, 0.1)
    const swept = await sweepJournals(home, { dryRun: false, olderThanMs: parseAge('1h') })
    expect(swept.runs).toEqual(['old-run'])
    expect(swept.young).toEqual(['new-run'])
    expect(swept.removed).toEqual([`path ${oldDir}`])
    const all = await sweepJournals(home, { dryRun: false })
    expect(all.runs).toEqual(['new-run'])
  })

  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['6h', 21_600_000],
    ['2d', 172_800_000],
  ])('parses %s', (t, ms) => {
    expect(parseAge(t)).toBe(ms)
  })

  it.each(['', '1', '1w', '-1h', '1.5h', '1h30m'])('refuses %j', (t) => {
    expect(() => parseAge(t)).toThrow(/--older-than/)
  })
})
