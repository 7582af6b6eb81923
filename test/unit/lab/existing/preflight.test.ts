import { describe, expect, it } from 'vitest'
import { assertPreflight, waitForAuditId } from '../../../../src/lab/existing/preflight.js'
import { fakeCollector } from './fake-collector.js'

describe('waitForAuditId', () => {
  it('resolves true on the event carrying the probe id, ignoring others, then stops the collector', async () => {
    const { collector, emit, state } = fakeCollector()
    const wait = waitForAuditId(collector, 'probe-1', 5_000)
    await Promise.resolve()
    emit('someone-else')
    emit('probe-1')
    expect(await wait.result).toBe(true)
    expect(state).toEqual({ started: 1, stopped: 1 })
  })

  it('resolves false when the event does not arrive in time', async () => {
    const { collector, emit, state } = fakeCollector()
    const wait = waitForAuditId(collector, 'probe-2', 50)
    emit('unrelated')
    expect(await wait.result).toBe(false)
    expect(state.stopped).toBe(1)
  })
})

describe('assertPreflight', () => {
  it('passes when every check passed', () => {
    expect(() => assertPreflight('ctx', [{ name: 'apiserver', ok: true, detail: 'up' }])).not.toThrow()
  })

  it('lists every failed check with its fix in one PURPLE_PREFLIGHT_FAILED error', () => {
    let error: unknown
    try {
      assertPreflight('staging', [
        { name: 'apiserver', ok: true, detail: 'up' },
        { name: 'audit', ok: false, detail: 'no audit event for probe p', fix: 'point --audit-log at …' },
        { name: 'audit policy', ok: false, detail: 'get pods/exec is logged at None' },
      ])
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: 'PURPLE_PREFLIGHT_FAILED' })
    const message = (error as Error).message
    expect(message).toContain("context 'staging' is not ready")
    expect(message).toContain('- audit: no audit event for probe p\n  fix: point --audit-log at …')
    expect(message).toContain('- audit policy: get pods/exec is logged at None')
    expect(message).not.toContain('- apiserver')
  })
})
