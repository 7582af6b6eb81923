// Supervision of the lab's long-lived processes. Each daemon is started in its own session (so its
// process group id equals its pid) and recorded with its kernel start time: a later `down` — even from
// another harness process after a crash — kills only a group whose leader is still that exact process,
// never a recycled pid.
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { PurpleError } from '../errors.js'

export interface DaemonRecord {
  readonly name: string
  readonly pid: number
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot); identifies the process beyond its pid. */
  readonly startTime: string
  readonly logFile: string
}

export interface DaemonSpec {
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
  readonly logFile: string
  readonly env?: Record<string, string>
  readonly cwd?: string
}

/** Starts `spec` detached in a new session, stdout/stderr appended to its log file. */
export function startDaemon(spec: DaemonSpec): DaemonRecord {
  const fd = openSync(spec.logFile, 'a')
  try {
    const child = spawn(spec.command, [...spec.args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env ?? (process.env as Record<string, string>),
      cwd: spec.cwd,
    })
    child.on('error', () => {}) // surfaced through the liveness check below instead
    child.unref()
    const pid = child.pid
    const startTime = pid === undefined ? undefined : procStartTime(pid)
    if (pid === undefined || startTime === undefined) {
      throw new PurpleError('PURPLE_LAB_FAILED', `could not start ${spec.name} (${spec.command})`, {
        hint: `see ${spec.logFile}`,
      })
    }
    return { name: spec.name, pid, startTime, logFile: spec.logFile }
  } finally {
    closeSync(fd)
  }
}

/** Kernel start time of `pid`, or undefined when no such process exists (or it is a zombie). */
export function procStartTime(pid: number): string | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined
  return rest[19]
}

export function isAlive(rec: DaemonRecord): boolean {
  return procStartTime(rec.pid) === rec.startTime
}

/** SIGTERM the daemon's process group, then SIGKILL after `graceMs`; no-op when it is gone. */
export async function stopDaemon(rec: DaemonRecord, graceMs = 5000): Promise<void> {
  if (!isAlive(rec)) return
  signalGroup(rec.pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!isAlive(rec)) return
    await sleep(50)
  }
  signalGroup(rec.pid, 'SIGKILL')
  for (let i = 0; i < 40 && isAlive(rec); i++) await sleep(50)
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // group already gone
  }
}

/** Last `lines` lines of a log file, for error messages. */
export function tailFile(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}
