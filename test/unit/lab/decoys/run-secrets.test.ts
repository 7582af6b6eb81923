// Issue #8 item 5: secrets at rest. A run's secret files live in one 0700 directory that a forced quit
// (process.exit, the second Ctrl-C) still removes; an interrupted Azure decoy start leaves no CA key.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { startAzureDecoy } from '../../../../src/lab/decoys/azure.js'
import { makeCanaries } from '../../../../src/lab/decoys/canaries.js'
import { createRunSecrets } from '../../../../src/lab/decoys/run-secrets.js'
import { venvDir } from '../../../../src/lab/decoys/venv.js'

const parent = mkdtempSync(join(tmpdir(), 'pk-run-secrets-'))
afterAll(() => rmSync(parent, { recursive: true, force: true }))

describe('run secrets directory', () => {
  it('is 0700, fresh per run, and removed by remove()', () => {
    const s = createRunSecrets(parent, 'r/1')
    expect(s.dir).toBe(join(parent, 'run-r_1'))
    expect(statSync(s.dir).mode & 0o777).toBe(0o700)
    s.remove()
    expect(existsSync(s.dir)).toBe(false)
    s.remove() // idempotent
    const hooks = process.listenerCount('exit')
    const kept = createRunSecrets(parent, 'kept')
    expect(process.listenerCount('exit')).toBe(hooks + 1)
    kept.keep()
    expect(process.listenerCount('exit')).toBe(hooks)
    expect(existsSync(kept.dir)).toBe(true)
  })

  it('is removed when the process is forced to quit (process.exit from a second Ctrl-C)', async () => {
    // Runs the built module (npm test builds first) in a process of its own, which then exits hard.
    const script = `
      const { createRunSecrets } = await import(${JSON.stringify(join(process.cwd(), 'dist/lab/decoys/run-secrets.js'))})
      const { writeFileSync } = await import('node:fs')
      const s = createRunSecrets(process.argv[1], 'forced')
      writeFileSync(s.dir + '/canaries.json', '{"secret":1}', { mode: 0o600 })
      process.on('SIGINT', () => process.exit(130))
      console.log('ready')
      setInterval(() => {}, 1000)`
    const child = execa('node', ['--input-type=module', '-e', script, parent], { reject: false })
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()))
    expect(existsSync(join(parent, 'run-forced', 'canaries.json'))).toBe(true)
    child.kill('SIGINT')
    const r = await child
    expect(r.exitCode).toBe(130)
    expect(existsSync(join(parent, 'run-forced'))).toBe(false)
  })
})

const hasAz = existsSync(join(venvDir(), 'bin', 'az'))
if (!hasAz)
  console.log(`skipping the Azure decoy start-up test: no az in ${venvDir()} (scripts/setup.sh installs it)`)

describe.skipIf(!hasAz)('Azure decoy interrupted during start-up', () => {
  it('leaves no profile dir (CA key, server key) behind', async () => {
    const busy = createServer()
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r))
    const port = (busy.address() as { port: number }).port
    const stateDir = mkdtempSync(join(parent, 'azure-state-'))
    const home = mkdtempSync(join(parent, 'home-'))
    const savedHome = process.env.PURPLEKIND_HOME
    process.env.PURPLEKIND_HOME = home // the default decoy state dir, were stateDir ignored
    try {
      const err = await startAzureDecoy({
        canaries: makeCanaries('t'),
        log: () => {},
        port,
        stateDir,
      }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'PURPLE_LAB_FAILED' })
      expect(readdirSync(stateDir)).toEqual([])
      const decoys = join(home, 'decoys')
      expect(existsSync(decoys) ? readdirSync(decoys) : []).toEqual([])
    } finally {
      if (savedHome === undefined) delete process.env.PURPLEKIND_HOME
      else process.env.PURPLEKIND_HOME = savedHome
      busy.close()
    }
  })
})
