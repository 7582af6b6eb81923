// Small helpers for decoy server processes on loopback.
import { type ChildProcess, spawn } from 'node:child_process'
import {
  chmodSync,
  closeSync,
  fchmodSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { PurpleError } from '../../errors.js'

export function decoyLogDir(): string {
  // Decoy state holds canary secrets while a run lasts: owner-only.
  const dir = join(process.env.PURPLEKIND_HOME ?? join(homedir(), '.purplekind'), 'decoys')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700) // also when an older version created it 0755
  return dir
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface DecoyProcess {
  readonly child: ChildProcess
  readonly logFile: string
  stop(): Promise<void>
}

/** Spawns a server with stdout/stderr to `logFile` and waits until `ready()` is true. */
export async function spawnServer(
  name: string,
  command: string,
  args: readonly string[],
  options: {
    logFile: string
    env?: NodeJS.ProcessEnv
    ready: () => Promise<boolean>
    timeoutMs?: number
    /**
     * The loopback TCP port the server listens on: ready only once *this* child holds the listening
     * socket. Anything else answering there (an orphan of a crashed run, a local user squatting the
     * port to receive the canaries) is refused rather than used.
     */
    port?: number
    /** Called with the child's pid as soon as it exists (the run journal records it for sweep). */
    onSpawn?: (pid: number | undefined) => void
  },
): Promise<DecoyProcess> {
  const fd = openSync(options.logFile, 'w', 0o600)
  fchmodSync(fd, 0o600) // owner-only, also when an older run left the file 0644
  const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: options.env ?? process.env })
  closeSync(fd)
  options.onSpawn?.(child.pid)
  let exited: string | undefined
  let squatted = false
  child.on('exit', (code, signal) => {
    exited = signal ?? `code ${code}`
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 5000).unref()
    })
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  while (Date.now() < deadline) {
    if (exited) break
    if (await options.ready().catch(() => false)) {
      if (options.port === undefined || (child.pid && listensOn(child.pid, options.port)))
        return { child, logFile: options.logFile, stop }
      squatted = true // something answers, but it is not our child
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  await stop()
  const tail = readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-10).join('\n')
  if (squatted)
    throw new PurpleError(
      'PURPLE_LAB_FAILED',
      `${name}: another process listens on 127.0.0.1:${options.port}, not this run's ${name}; it is not used`,
      {
        hint: `an orphan of a crashed run (purplekind sweep), or a local user squatting the port: ss -ltnp 'sport = :${options.port}'`,
      },
    )
  throw new PurpleError(
    'PURPLE_LAB_FAILED',
    `${name} ${exited ? `exited (${exited})` : 'did not become ready'}; log ${options.logFile}:\n${tail}`,
  )
}

/** Inode of the socket listening on 127.0.0.1:`port` (or any address), from /proc/net/tcp{,6}. */
export function listenerInode(port: number): string | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // f[1] local address:port, f[3] state (0A = LISTEN), f[9] inode
      if (f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`) && f[9]) return f[9]
    }
  }
  return undefined
}

/** True when process `pid` holds the socket listening on `port`. */
export function listensOn(pid: number, port: number): boolean {
  const inode = listenerInode(port)
  if (!inode) return false
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return false
  }
  return fds.some((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`
    } catch {
      return false
    }
  })
}
