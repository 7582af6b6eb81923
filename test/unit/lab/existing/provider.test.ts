import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { createExistingProvider, existingProvider } from '../../../../src/lab/existing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'purplekind-existing-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const kubeconfig = join(dir, 'kc.yaml')
writeFileSync(
  kubeconfig,
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // TEST-NET-1: never contacted, the refusal must come first.
    clusters: [{ name: 'staging', cluster: { server: 'https://192.0.2.1:6443' } }],
    users: [{ name: 'u', user: { token: 'x' } }],
    contexts: [{ name: 'staging', context: { cluster: 'staging', user: 'u' } }],
    'current-context': 'staging',
  }),
)
const log = () => {}

describe('existingProvider', () => {
  it('is never available without --allow-context', async () => {
    expect(await existingProvider.available()).toEqual({
      ok: false,
      reason: 'an existing cluster is used only when named with --allow-context <context>',
    })
    await expect(existingProvider.up({ name: 'x', log })).rejects.toMatchObject({
      code: 'PURPLE_CONTEXT_REFUSED',
    })
  })

  it('refuses a context that was not allowed by name, before contacting it', async () => {
    const provider = createExistingProvider({
      kubeconfig,
      context: 'staging',
      allowContexts: ['other'],
      audit: { logFile: join(dir, 'audit.log') },
    })
    expect((await provider.available()).reason).toBe(
      "context 'staging' is used only with --allow-context staging",
    )
    await expect(provider.up({ name: 'staging', log })).rejects.toMatchObject({
      code: 'PURPLE_CONTEXT_REFUSED',
      hint: expect.stringContaining('--allow-context staging'),
    })
  })

  it('fails preflight naming a missing audit log', async () => {
    const provider = createExistingProvider({
      kubeconfig,
      context: 'staging',
      allowContexts: ['staging'],
      audit: { logFile: join(dir, 'missing-audit.log') },
    })
    expect(await provider.available()).toEqual({ ok: true })
    await expect(provider.up({ name: 'staging', log })).rejects.toMatchObject({
      code: 'PURPLE_PREFLIGHT_FAILED',
      message: expect.stringContaining('missing-audit.log does not exist'),
    })
  })
})
