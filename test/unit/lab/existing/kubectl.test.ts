// Issue #8 item 8: `--env existing` runs the steps with the lab's pinned kubectl, or checks the one on
// PATH up front (1.32 lacks --as-user-extra, so every impersonated step would fail).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveAssets } from '../../../../src/lab/assets.js'
import { kubectlBinDir, kubectlClientMinor } from '../../../../src/lab/existing/kubectl.js'

const dir = mkdtempSync(join(tmpdir(), 'pk-kubectl-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A FAKE kubectl (named as such) that reports a given client version; the real one is tested below. */
function fakeKubectl(minor: string): string {
  const bin = mkdtempSync(join(dir, 'bin-'))
  const json = JSON.stringify({ clientVersion: { major: '1', minor, gitVersion: `v1.${minor}.0` } })
  writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\necho '${json}'\n`)
  chmodSync(join(bin, 'kubectl'), 0o755)
  return bin
}

async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

describe('kubectl for --env existing', () => {
  it('reads the client minor version', () => {
    expect(kubectlClientMinor('{"clientVersion":{"major":"1","minor":"32"}}')).toBe(32)
    expect(kubectlClientMinor('{"clientVersion":{"major":"1","minor":"36+"}}')).toBe(36)
    expect(kubectlClientMinor('not json')).toBeUndefined()
    expect(kubectlClientMinor('{}')).toBeUndefined()
  })

  it('refuses an old kubectl on PATH up front, with a coded error, when no pinned one is built', async () => {
    const noAssets = mkdtempSync(join(dir, 'assets-'))
    const bin = fakeKubectl('32')
    const err = await withEnv({ PURPLEKIND_ASSETS: noAssets, PATH: `${bin}:/usr/bin:/bin` }, () =>
      kubectlBinDir(() => {}),
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'PURPLE_PREFLIGHT_FAILED' })
    expect((err as Error).message).toContain('kubectl on PATH is 1.32; the steps need 1.33+')
  })

  it('accepts a recent kubectl on PATH when no pinned one is built', async () => {
    const noAssets = mkdtempSync(join(dir, 'assets-'))
    const bin = fakeKubectl('36')
    const lines: string[] = []
    await expect(
      withEnv({ PURPLEKIND_ASSETS: noAssets, PATH: `${bin}:/usr/bin:/bin` }, () =>
        kubectlBinDir((l) => lines.push(l)),
      ),
    ).resolves.toBeUndefined()
    expect(lines.join('\n')).toContain('1.36 from PATH')
  })

  it("uses the lab's pinned kubectl when it is built, whatever is on PATH", async (ctx) => {
    const assets = await resolveAssets({ build: false, log: () => {} }).catch(() => undefined)
    if (!assets) {
      console.log('skipping the pinned-kubectl case: lab binaries not built (purplekind lab build)')
      ctx.skip()
      return
    }
    const bin = fakeKubectl('20')
    const got = await withEnv({ PATH: `${bin}:/usr/bin:/bin` }, () => kubectlBinDir(() => {}))
    expect(got).toBe(assets.binDir)
  })
})
