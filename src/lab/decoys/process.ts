// Small helpers for decoy server processes on loopback.
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs'
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
  options: { logFile: string; env?: NodeJS.ProcessEnv; ready: () => Promise<boolean>; timeoutMs?: number },
): Promise<DecoyProcess> {
  const fd = openSync(options.logFile, 'w')
  const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: options.env ?? process.env })
  closeSync(fd)
  let exited: string | undefined
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
    if (await options.ready().catch(() => false)) return { child, logFile: options.logFile, stop }
    await new Promise((r) => setTimeout(r, 250))
  }
  await stop()
  const tail = readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-10).join('\n')
  throw new PurpleError(
    'PURPLE_LAB_FAILED',
    `${name} ${exited ? `exited (${exited})` : 'did not become ready'}; log ${options.logFile}:\n${tail}`,
  )
}
