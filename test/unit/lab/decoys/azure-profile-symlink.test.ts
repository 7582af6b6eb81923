// Issue #8 item 1: a process the exec sandbox left behind swaps the sandbox's `.azure` for a symlink to a
// root-owned directory while the harness (root) hands the run's az profile over. Whatever the race, no
// root-owned file may change owner, mode or content: the hand-over runs as the sandbox user.
import { spawn } from 'node:child_process'
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyAzureProfile } from '../../../../src/lab/decoys/azure.js'

const SANDBOX = { uid: 65534, gid: 65534 }
const isRoot = process.getuid?.() === 0
if (!isRoot) console.log('skipping the symlink-swap test: it needs root to act as the harness does')

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pk-azure-swap-'))
  await chmod(dir, 0o711) // the sandbox user reaches its HOME below, as under /tmp
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function snapshot(victim: string) {
  const s = await stat(victim)
  const f = await stat(join(victim, 'root-file'))
  return {
    dir: { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 },
    file: { uid: f.uid, gid: f.gid, mode: f.mode & 0o7777 },
    entries: (await readdir(victim)).sort(),
  }
}

describe.skipIf(!isRoot)('az profile hand-over against a hostile sandbox', () => {
  it('plants a symlink where .azure goes: the root-owned target keeps owner, mode and content', async () => {
    const src = join(dir, 'decoy-profile')
    await mkdir(join(src, 'tls'), { recursive: true })
    await writeFile(join(src, 'azureProfile.json'), '{"subscriptions":[]}')
    await writeFile(join(src, 'tls', 'ca.pem'), 'CA PEM')
    const home = join(dir, 'home')
    await mkdir(home, { mode: 0o700 })
    await chown(home, SANDBOX.uid, SANDBOX.gid)
    const victim = join(dir, 'root-owned')
    await mkdir(victim, { mode: 0o755 })
    await writeFile(join(victim, 'root-file'), 'root data', { mode: 0o644 })
    const before = await snapshot(victim)
    const configDir = join(home, '.azure')
    const target = { configDir, caBundle: join(configDir, 'ca.pem'), owner: SANDBOX }
    const decoy = { configDir: src, env: { REQUESTS_CA_BUNDLE: join(src, 'tls', 'ca.pem') } }

    // The leftover sandbox process: keeps moving .azure aside and pointing it at the root-owned dir.
    const swap = `cd "$1" || exit 1; echo ready; while :; do ln -s "$2" .azure 2>/dev/null; done`
    const attackers = [1, 2].map(() =>
      spawn('sh', ['-c', swap, 'sh', home, victim], {
        uid: SANDBOX.uid,
        gid: SANDBOX.gid,
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    )
    await Promise.all(attackers.map((a) => new Promise((r) => a.stdout?.once('data', r))))
    try {
      for (let i = 0; i < 100; i++) {
        // The hand-over may fail while the sandbox fights it; it must never act with root's rights.
        await copyAzureProfile(decoy, target).catch(() => undefined)
        expect(await snapshot(victim), `attempt ${i + 1}`).toEqual(before)
      }
    } finally {
      for (const a of attackers) a.kill('SIGKILL')
    }
    // With the sandbox quiet again the hand-over works and everything in .azure belongs to the sandbox.
    await new Promise((r) => setTimeout(r, 50))
    await rm(configDir, { force: true, recursive: false }).catch(() => undefined)
    await copyAzureProfile(decoy, target)
    for (const e of ['', ...(await readdir(configDir, { recursive: true }))]) {
      const s = await stat(join(configDir, e))
      expect({ uid: s.uid, gid: s.gid }, e || '.').toEqual(SANDBOX)
    }
    expect(await snapshot(victim)).toEqual(before)
  })
})
