import { closeSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dockerdArgs, ensureDockerd, openDockerdLog } from '../../../../src/lab/docker/engine.js'

describe('ensureDockerd', () => {
  it('fails with PURPLE_PROVIDER_UNAVAILABLE when a custom socket does not answer', async () => {
    const err = await ensureDockerd({ log: () => {}, socketPath: '/nonexistent/docker.sock' }).catch(
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'PURPLE_PROVIDER_UNAVAILABLE' })
    expect((err as Error).message).toContain('/nonexistent/docker.sock')
  })
})

describe('dockerd started by the lab (issue #8 item 5: no secrets at rest in its log)', () => {
  it('runs without --debug unless asked (debug logs every API body, canaries included)', () => {
    expect(dockerdArgs(['--bridge=none'], false)).toEqual(['--bridge=none'])
    expect(dockerdArgs([], false)).not.toContain('--debug')
    expect(dockerdArgs(['--bridge=none'], true)).toEqual(['--debug', '--bridge=none'])
  })

  it('logs to an owner-only file, also when an older log was world-readable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pk-dockerd-log-'))
    try {
      const old = join(dir, 'old.log')
      writeFileSync(old, 'x', { mode: 0o644 })
      for (const file of [old, join(dir, 'new.log')]) {
        closeSync(openDockerdLog(file))
        expect(statSync(file).mode & 0o777, file).toBe(0o600)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
