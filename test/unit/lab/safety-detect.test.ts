// chooseProvider (src/lab/detect.ts): which lab `--env` picks, and the reason the CLI prints.
import { describe, expect, it } from 'vitest'
import { chooseProvider } from '../../../src/lab/detect.js'
import type { LabProvider, ProviderName } from '../../../src/lab/provider.js'

/** A fake provider: only its availability answer matters to chooseProvider; up/down must never run. */
function fakeProvider(
  name: ProviderName,
  availability: { ok: boolean; reason?: string },
): LabProvider & { probes: number } {
  const fake = {
    name,
    probes: 0,
    async available() {
      fake.probes += 1
      return availability
    },
    async up(): Promise<never> {
      throw new Error('fake provider: up must not be called by chooseProvider')
    },
    async down() {
      throw new Error('fake provider: down must not be called by chooseProvider')
    },
    async status() {
      return { running: false, detail: 'fake' }
    },
  }
  return fake
}

const kindUp = () => fakeProvider('kind', { ok: true })
const kindDown = () => fakeProvider('kind', { ok: false, reason: 'kind not on PATH' })
const localUp = () => fakeProvider('local', { ok: true })

describe('chooseProvider auto', () => {
  it('picks kind when kind, Docker and a node image are present', async () => {
    const kind = kindUp()
    const local = localUp()
    const choice = await chooseProvider('auto', { kind, local })
    expect(choice.provider).toBe(kind)
    expect(choice.reason).toMatch(/^auto: kind/)
    expect(local.probes).toBe(0) // local is not even probed
  })

  it('falls back to local and says why kind was not used', async () => {
    const local = localUp()
    const choice = await chooseProvider('auto', { kind: kindDown(), local })
    expect(choice.provider).toBe(local)
    expect(choice.reason).toBe('auto: local (kind unavailable: kind not on PATH)')
  })

  it('falls back to local when no kind provider is registered', async () => {
    const choice = await chooseProvider('auto', { local: localUp() })
    expect(choice.reason).toMatch(/kind provider not registered/)
  })

  it('fails with both reasons when neither lab can run', async () => {
    const local = fakeProvider('local', { ok: false, reason: 'lab binaries missing' })
    await expect(chooseProvider('auto', { kind: kindDown(), local })).rejects.toMatchObject({
      code: 'PURPLE_PROVIDER_UNAVAILABLE',
      message: expect.stringMatching(/kind: kind not on PATH; local: lab binaries missing/),
    })
  })
})

describe('chooseProvider explicit', () => {
  it('returns the named provider when available, without probing others', async () => {
    const kind = kindDown()
    const local = fakeProvider('local', { ok: true })
    const choice = await chooseProvider('local', { kind, local })
    expect(choice).toEqual({ provider: local, reason: '--env local' })
    expect(kind.probes).toBe(0)
  })

  it('refuses an unavailable or unregistered provider with its reason', async () => {
    await expect(chooseProvider('kind', { kind: kindDown() })).rejects.toMatchObject({
      code: 'PURPLE_PROVIDER_UNAVAILABLE',
      message: '--env kind is not available: kind not on PATH',
    })
    await expect(chooseProvider('existing', {})).rejects.toMatchObject({ code: 'PURPLE_USAGE' })
  })
})
