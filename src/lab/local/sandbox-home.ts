// The exec sandbox's HOME (kwok's exec workDir) belongs to the sandbox user, and so does everything in
// it: any process a `kubectl exec` left behind can swap an entry for a symlink at any moment. Root
// therefore never walks it: it creates the directory itself and chowns it through a descriptor opened
// with O_NOFOLLOW, lets the sandbox user empty it, and only then removes the (empty) entry. Between runs
// the sandbox's leftover processes are killed, so no earlier exec outlives the run that started it.
import { constants } from 'node:fs'
import { lstat, mkdir, open, readFile, rmdir, unlink } from 'node:fs/promises'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'
import type { SandboxUser } from './config.js'

/** Creates `dir` (which must not exist) for `user`, mode 0700, without following any symlink. */
export async function createSandboxHome(dir: string, user: SandboxUser): Promise<void> {
  await mkdir(dir, { mode: 0o700 })
  const fd = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
  try {
    await fd.chown(user.uid, user.gid)
    await fd.chmod(0o700)
  } finally {
    await fd.close()
  }
}

/**
 * Removes `dir` and its content: the content as `user` (a planted symlink then reaches only what that
 * user could reach anyway), the entry itself by root with rmdir/unlink, neither of which follows links.
 */
export async function removeSandboxHome(dir: string, user: SandboxUser): Promise<void> {
  const st = await lstat(dir).catch(() => undefined)
  if (!st) return
  if (!st.isDirectory()) {
    await unlink(dir)
    return
  }
  if (st.uid === user.uid) {
    const self = process.getuid?.() === user.uid
    // find -P (the default) never follows symlinks, not even the starting point.
    await execa('find', [dir, '-mindepth', '1', '-delete'], {
      ...(self ? {} : { uid: user.uid, gid: user.gid }),
      cwd: '/',
      env: { PATH: '/usr/bin:/bin' },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    })
  }
  try {
    await rmdir(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    throw new PurpleError('PURPLE_LAB_FAILED', `cannot remove the exec sandbox's home ${dir}: ${code}`, {
      hint: `something outside the sandbox user's reach was left in it; inspect and remove ${dir} by hand`,
    })
  }
}

/** Real uid of a process, or undefined once it is gone. */
async function processUid(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const m = /^Uid:\s+(\d+)/m.exec(status)
  return m ? Number(m[1]) : undefined
}

/**
 * SIGKILLs every process of `user` inside network namespace `ns` (what exec'd commands left running),
 * repeating while any remain (one may fork as another dies). Root's own daemons there are untouched.
 * Returns how many were killed.
 */
export async function killSandboxProcesses(ns: string, user: SandboxUser): Promise<number> {
  let killed = 0
  for (let round = 0; round < 20; round++) {
    const r = await execa('ip', ['netns', 'pids', ns], { reject: false, stdin: 'ignore' })
    if (r.exitCode !== 0) return killed
    const pids = r.stdout.split(/\s+/).filter(Boolean).map(Number)
    const theirs: number[] = []
    for (const pid of pids) if ((await processUid(pid)) === user.uid) theirs.push(pid)
    if (!theirs.length) return killed
    for (const pid of theirs) {
      try {
        process.kill(pid, 'SIGKILL')
        killed++
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new PurpleError('PURPLE_LAB_FAILED', `processes of uid ${user.uid} keep appearing in netns ${ns}`, {
    hint: 'recreate the lab: purplekind lab down && purplekind lab up',
  })
}
