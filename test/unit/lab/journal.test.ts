// Issue #8 item 4: after a SIGKILL of the harness, `sweep` removes the host resources the run journalled
// (a server process, secret files, a socket) — and leaves a live run's alone.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { journalDir, openRunJournal, sweepJournals } from '../../../src/lab/journal.js'
import { procStartTime } from '../../../src/lab/process.js'

const home = mkdtempSync(join(tmpdir(), 'pk-journal-'))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const alive = (pid: number, startTime: string) => procStartTime(pid) === startTime

describe('run journal', () => {
  it('a SIGKILLed run leaves a journal; sweep kills its process and removes its files', async () => {
    // The "harness": the built module (npm test builds first) in a process of its own, killed with -9.
    const script = `
      const { openRunJournal, processEntry } = await import(${JSON.stringify(join(process.cwd(), 'dist/lab/journal.js'))})
      const { spawn } = await import('node:child_process')
      const { mkdirSync, writeFileSync } = await import('node:fs')
      const [home] = process.argv.slice(1)
      const j = openRunJournal(home, 'crashed-run')
      const secrets = home + '/secrets'
      j.record({ kind: 'path', path: secrets })
      mkdirSync(secrets, { mode: 0o700 })
      writeFileSync(secrets + '/canaries.json', '{}', { mode: 0o600 })
      const server = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' })
      j.record(processEntry('moto_server', server.pid))
      server.unref()
      console.log(JSON.stringify({ pid: server.pid }))
      setInterval(() => {}, 1000)`
    const harness = execa('node', ['--input-type=module', '-e', script, home], { reject: false })
    const line = await new Promise<string>((resolve) =>
      harness.stdout?.once('data', (d) => resolve(String(d))),
    )
    const { pid } = JSON.parse(line) as { pid: number }
    const startTime = procStartTime(pid) as string
    harness.kill('SIGKILL')
    await harness
    expect(alive(pid, startTime)).toBe(true) // the orphan outlives its harness
    expect(existsSync(join(home, 'secrets', 'canaries.json'))).toBe(true)

    const dry = await sweepJournals(home, { dryRun: true })
    expect(dry.runs).toEqual(['crashed-run'])
    expect(alive(pid, startTime)).toBe(true)

    const swept = await sweepJournals(home, { dryRun: false })
    expect(swept.removed).toEqual([`process moto_server (pid ${pid})`, `path ${join(home, 'secrets')}`])
    await new Promise((r) => setTimeout(r, 100))
    expect(alive(pid, startTime)).toBe(false)
    expect(existsSync(join(home, 'secrets'))).toBe(false)
    expect(readdirSync(journalDir(home))).toEqual([])
  })

  it("leaves a live run's resources alone, and a clean close leaves no journal", async () => {
    const j = openRunJournal(home, 'live-run')
    const dir = join(home, 'live-secrets')
    j.record({ kind: 'path', path: dir })
    mkdirSync(dir)
    writeFileSync(join(dir, 'x'), 'x')
    const swept = await sweepJournals(home, { dryRun: false })
    expect(swept.live).toEqual(['live-run'])
    expect(existsSync(dir)).toBe(true)
    j.close()
    expect(existsSync(j.file)).toBe(false)
  })

  it('never kills a process whose pid was reused (start time differs)', async () => {
    const j = openRunJournal(home, 'reused')
    j.record({ kind: 'process', name: 'moto_server', pid: process.pid, startTime: 'not-this-one' })
    // Pretend the run is dead: rewrite the header with a pid that does not exist.
    const lines = readFileSync(j.file, 'utf8').split('\n')
    lines[0] = JSON.stringify({ kind: 'run', runId: 'reused', pid: 4194303, startTime: '1' })
    writeFileSync(j.file, lines.join('\n'))
    const swept = await sweepJournals(home, { dryRun: false })
    expect(swept.runs).toEqual(['reused'])
    expect(swept.removed).toEqual([])
  })
})
