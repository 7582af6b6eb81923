// Finds or starts the Docker Engine the lab uses. Debian's docker.io (20.10, API 1.41) is installed but
// dockerd is not necessarily running; when we start it, it runs detached so the lab outlives this process.
import { spawn } from 'node:child_process'
import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import Docker from 'dockerode'
import { PurpleError } from '../../errors.js'

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock'

/** How the daemon's networking ended up: a real bridge, or none (containers get only loopback). */
export type DockerNetworking = 'bridge' | 'none'

export interface DockerEngine {
  readonly docker: Docker
  readonly socketPath: string
  /** True when this code started dockerd (then `stopDockerd` may stop it). */
  readonly startedByUs: boolean
  readonly networking: DockerNetworking
  /** dockerd's own log (only when we started it; 0600, and without API bodies unless debug was asked). */
  readonly logFile?: string
  readonly version: string
}

export interface EnsureDockerdOptions {
  log: (line: string) => void
  socketPath?: string
  /** Where dockerd's log and pid file go (default ~/.purplekind/dockerd). */
  stateDir?: string
  readyTimeoutMs?: number
  /**
   * Start dockerd with --debug (default: PURPLEKIND_DOCKERD_DEBUG=1). Its debug log records every API
   * request body — the canaries of every run — so it is off unless asked for.
   */
  debug?: boolean
}

/** dockerd's argv for one attempt. */
export function dockerdArgs(flags: readonly string[], debug: boolean): string[] {
  return [...(debug ? ['--debug'] : []), ...flags]
}

/** Opens dockerd's log for appending, owner-only (an older log may have been created 0644). */
export function openDockerdLog(file: string): number {
  const fd = openSync(file, 'a', 0o600)
  fchmodSync(fd, 0o600)
  return fd
}

/** Flag sets tried in order: full networking first, then without iptables/bridge, then vfs storage. */
const ATTEMPTS: readonly { networking: DockerNetworking; flags: readonly string[] }[] = [
  { networking: 'bridge', flags: [] },
  { networking: 'none', flags: ['--iptables=false', '--ip6tables=false', '--bridge=none'] },
  {
    networking: 'none',
    flags: ['--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs'],
  },
]

export function dockerStateDir(stateDir?: string): string {
  return stateDir ?? join(homedir(), '.purplekind', 'dockerd')
}

/** Uses the engine on `socketPath` if it answers, else starts dockerd as root in the background. */
export async function ensureDockerd(options: EnsureDockerdOptions): Promise<DockerEngine> {
  const socketPath = options.socketPath ?? DEFAULT_DOCKER_SOCKET
  const docker = new Docker({ socketPath })
  const running = await pingVersion(docker)
  if (running) {
    options.log(`docker: using running engine ${running} on ${socketPath}`)
    return {
      docker,
      socketPath,
      startedByUs: false,
      networking: await detectNetworking(docker),
      version: running,
    }
  }
  if (socketPath !== DEFAULT_DOCKER_SOCKET) {
    throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', `no Docker Engine answers on ${socketPath}`, {
      hint: 'start dockerd on that socket, or omit socketPath to let purplekind start one',
    })
  }
  const dir = dockerStateDir(options.stateDir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  const debug = options.debug ?? process.env.PURPLEKIND_DOCKERD_DEBUG === '1'
  if (debug) options.log('docker: dockerd --debug asked for: its log will hold API request bodies (secrets)')
  const logFile = join(dir, 'dockerd.log')
  const failures: string[] = []
  for (const attempt of ATTEMPTS) {
    options.log(`docker: starting dockerd ${attempt.flags.join(' ') || '(default flags)'}; log ${logFile}`)
    const args = dockerdArgs(attempt.flags, debug)
    const outcome = await startOnce(docker, args, logFile, dir, options.readyTimeoutMs ?? 30_000)
    if (outcome.ok) {
      options.log(
        `docker: dockerd ${outcome.version} ready (pid ${outcome.pid}, networking ${attempt.networking})`,
      )
      return {
        docker,
        socketPath,
        startedByUs: true,
        networking: attempt.networking,
        logFile,
        version: outcome.version,
      }
    }
    failures.push(`[${attempt.flags.join(' ') || 'default'}] ${outcome.reason}`)
    if (outcome.reason.startsWith('timed out')) break
  }
  throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', `dockerd did not start:\n${failures.join('\n')}`, {
    hint: `see ${logFile}; is docker.io installed and are we root?`,
  })
}

/** Stops a dockerd this code started (pid file in the state dir); no-op otherwise. */
export async function stopDockerd(options: {
  log: (line: string) => void
  stateDir?: string
}): Promise<void> {
  const pidFile = join(dockerStateDir(options.stateDir), 'dockerd.pid')
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return
  options.log(`docker: stopping dockerd pid ${pid}`)
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + 20_000
  while (isAlive(pid) && Date.now() < deadline) await sleep(200)
  if (isAlive(pid)) process.kill(pid, 'SIGKILL')
}

type StartOutcome = { ok: true; pid: number; version: string } | { ok: false; reason: string }

async function startOnce(
  docker: Docker,
  args: readonly string[],
  logFile: string,
  dir: string,
  timeoutMs: number,
): Promise<StartOutcome> {
  const logStart = existsSync(logFile) ? readFileSync(logFile).length : 0
  const fd = openDockerdLog(logFile)
  const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  let exited: string | undefined
  child.on('exit', (code, signal) => {
    exited = `dockerd exited (${signal ?? `code ${code}`})`
  })
  child.on('error', (err) => {
    exited = `cannot run dockerd: ${err.message}`
  })
  child.unref()
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exited) return { ok: false, reason: `${exited}; log tail:\n${logTail(logFile, logStart)}` }
    const version = await pingVersion(docker)
    if (version && child.pid) {
      writeFileSync(join(dir, 'dockerd.pid'), `${child.pid}\n`)
      return { ok: true, pid: child.pid, version }
    }
    await sleep(250)
  }
  if (child.pid && isAlive(child.pid)) process.kill(child.pid, 'SIGKILL')
  return { ok: false, reason: `timed out after ${timeoutMs} ms; log tail:\n${logTail(logFile, logStart)}` }
}

async function pingVersion(docker: Docker): Promise<string | undefined> {
  try {
    // The typings lack the options overload; docker-modem honours abortSignal on every call.
    const withOptions = docker.version as unknown as (o: {
      abortSignal: AbortSignal
    }) => Promise<Docker.DockerVersion>
    const v = await withOptions.call(docker, { abortSignal: AbortSignal.timeout(3000) })
    return v.Version
  } catch {
    return undefined
  }
}

async function detectNetworking(docker: Docker): Promise<DockerNetworking> {
  const networks = await docker.listNetworks({ filters: { name: ['bridge'] } })
  return networks.some((n) => n.Name === 'bridge') ? 'bridge' : 'none'
}

function logTail(file: string, from: number, lines = 15): string {
  if (!existsSync(file)) return '(no log)'
  const text = readFileSync(file).subarray(from).toString('utf8')
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
