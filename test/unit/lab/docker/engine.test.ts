import { describe, expect, it } from 'vitest'
import { ensureDockerd } from '../../../../src/lab/docker/engine.js'

describe('ensureDockerd', () => {
  it('fails with PURPLE_PROVIDER_UNAVAILABLE when a custom socket does not answer', async () => {
    const err = await ensureDockerd({ log: () => {}, socketPath: '/nonexistent/docker.sock' }).catch(
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'PURPLE_PROVIDER_UNAVAILABLE' })
    expect((err as Error).message).toContain('/nonexistent/docker.sock')
  })
})
