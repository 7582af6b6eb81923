// The exec sandbox's HOME and leftover processes (issue #8 item 1): root never walks what the sandbox
// user owns, and nothing an exec'd command started outlives the run.
import { spawn } from 'node:child_process'
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSandboxHome,
  killSandboxProcesses,
  removeSandboxHome,
} from '../../../../src/lab/local/sandbox-home.js'

const USER = { uid: 65534, gid: 65534 }
const isRoot = process.getuid?.() === 0
if (!isRoot) console.log('skipping sandbox-home tests: they need root to act as the harness does')

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pk-sandbox-home-'))
  await chmod(dir, 0o711)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe.skipIf(!isRoot)('sandbox home', () => {
  it('is created 0700 for the sandbox user, and never through a planted symlink', async () => {
    const home = join(dir, 'home-a')
    await createSandboxHome(home, USER)
    const st = await stat(home)
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ ...USER, mode: 0o700 })
    const victim = join(dir, 'victim-a')
    await mkdir(victim, { mode: 0o755 })
    const planted = join(dir, 'home-b')
    await symlink(victim, planted)
    await expect(createSandboxHome(planted, USER)).rejects.toThrow(/EEXIST/)
    expect((await stat(victim)).uid).toBe(0)
  })

  it('is removed without root following the links the sandbox planted in it', async () => {
    const home = join(dir, 'home-c')
    await createSandboxHome(home, USER)
    const victim = join(dir, 'victim-c')
    await mkdir(join(victim, 'sub'), { recursive: true, mode: 0o755 })
    await writeFile(join(victim, 'sub', 'keep'), 'root data')
    // What the sandbox user can do in its own HOME: links to root's files, a nested dir of its own.
    await execa(
      'sh',
      [
        '-c',
        'ln -s "$2" "$1/.azure" && mkdir "$1/d" && ln -s "$2/sub" "$1/d/x" && touch "$1/f"',
        'sh',
        home,
        victim,
      ],
      USER,
    )
    await removeSandboxHome(home, USER)
    await expect(lstat(home)).rejects.toThrow(/ENOENT/)
    expect(await readdir(join(victim, 'sub'))).toEqual(['keep'])
    const st = await stat(victim)
    expect({ uid: st.uid, mode: st.mode & 0o777 }).toEqual({ uid: 0, mode: 0o755 })
  })

  it('replaced by a symlink, only the link goes', async () => {
    const victim = join(dir, 'victim-d')
    await mkdir(victim)
    await writeFile(join(victim, 'keep'), 'x')
    await chown(victim, USER.uid, USER.gid) // even a dir the sandbox user owns is not emptied through a link
    const home = join(dir, 'home-d')
    await symlink(victim, home)
    await removeSandboxHome(home, USER)
    await expect(lstat(home)).rejects.toThrow(/ENOENT/)
    expect(await readdir(victim)).toEqual(['keep'])
  })
})

describe.skipIf(!isRoot)('leftover sandbox processes', () => {
  const ns = `pk-test-${process.pid}`
  beforeAll(async () => {
    await execa('ip', ['netns', 'add', ns])
  })
  afterAll(async () => {
    await execa('ip', ['netns', 'del', ns], { reject: false })
  })

  it('are killed (even one that forks), root processes in the namespace are not', async () => {
    const inNs = (args: string[]) => spawn('ip', ['netns', 'exec', ns, ...args], { stdio: 'ignore' })
    const drop = ['setpriv', `--reuid=${USER.uid}`, `--regid=${USER.gid}`, '--clear-groups']
    const rootDaemon = inNs(['sleep', '300'])
    const leftovers = [
      inNs([...drop, 'sleep', '300']),
      inNs([...drop, 'sh', '-c', 'sleep 300 & sleep 300 & wait']),
    ]
    const uidsInNs = async () => {
      const pids = (await execa('ip', ['netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean)
      const uids = await Promise.all(
        pids.map((p) =>
          stat(`/proc/${p}`).then(
            (s) => s.uid,
            () => -1,
          ),
        ),
      )
      return uids.filter((u) => u >= 0)
    }
    for (let i = 0; i < 100 && (await uidsInNs()).filter((u) => u === USER.uid).length < 4; i++) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect((await uidsInNs()).filter((u) => u === USER.uid).length).toBe(4)
    try {
      expect(await killSandboxProcesses(ns, USER)).toBe(4)
      expect(await uidsInNs()).toEqual([0])
      expect(rootDaemon.exitCode).toBeNull()
    } finally {
      rootDaemon.kill('SIGKILL')
      for (const l of leftovers) l.kill('SIGKILL')
    }
  })
})
