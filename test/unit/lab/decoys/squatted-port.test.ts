// Issue #8 item 4: a decoy is used only when this run's process holds its port. An orphan of a crashed
// run, or a local user squatting the port to receive the canary key id, is refused.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, listenerInode, listensOn, spawnServer } from '../../../../src/lab/decoys/process.js'

const dir = mkdtempSync(join(tmpdir(), 'pk-squat-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const answers = (port: number) => () =>
  new Promise<boolean>((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(true)) // in use: something listens
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)))
  })

describe('decoy port ownership', () => {
  it('finds the listening socket of a process', async () => {
    const s = createServer()
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    const port = (s.address() as { port: number }).port
    try {
      expect(listenerInode(port)).toMatch(/^\d+$/)
      expect(listensOn(process.pid, port)).toBe(true)
      expect(listensOn(1, port)).toBe(false)
    } finally {
      s.close()
    }
  })

  it("accepts the run's own server once it listens", async () => {
    const port = await freePort()
    const script = `require('node:net').createServer().listen(${port}, '127.0.0.1')`
    const server = await spawnServer('own', process.execPath, ['-e', script], {
      logFile: join(dir, 'own.log'),
      port,
      ready: answers(port),
      timeoutMs: 10_000,
    })
    await server.stop()
  })

  it('refuses a port someone else answers on, even though it "looks ready"', async () => {
    const squatter = createServer()
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r))
    const port = (squatter.address() as { port: number }).port
    try {
      // The run's server cannot bind (the port is taken) and stays up doing nothing, like a stuck start.
      const err = await spawnServer('moto_server', 'sleep', ['30'], {
        logFile: join(dir, 'squat.log'),
        port,
        ready: answers(port),
        timeoutMs: 1500,
      }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'PURPLE_LAB_FAILED' })
      expect((err as Error).message).toContain(`another process listens on 127.0.0.1:${port}`)
    } finally {
      squatter.close()
    }
  })
})
