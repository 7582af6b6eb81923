// One directory (0700) per run for every secret file the run writes on the host: the canary set, the
// Azure decoy's profile (client secret, token cache) and its TLS CA key. Removing the run's secrets is
// then one rm, done first when the run stops, and also from a process 'exit' hook, so a forced quit
// (a second Ctrl-C → process.exit) leaves none of them behind. (SIGKILL runs no hook: `sweep` is for that.)
import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'

export interface RunSecrets {
  readonly dir: string
  /** Removes the directory now (idempotent) and drops the exit hook. */
  remove(): void
  /** Drops the exit hook and leaves the directory (PURPLEKIND_KEEP_CANARIES=1: tests read it afterwards). */
  keep(): void
}

export function runSecretsDir(parent: string, runId: string): string {
  return join(parent, `run-${runId.replace(/[^\w.-]/g, '_')}`)
}

/** Creates `<parent>/run-<runId>` (0700, fresh) and arms the exit hook that removes it. */
export function createRunSecrets(parent: string, runId: string): RunSecrets {
  const dir = runSecretsDir(parent, runId)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  const onExit = () => rmSync(dir, { recursive: true, force: true })
  process.on('exit', onExit)
  return {
    dir,
    remove() {
      process.off('exit', onExit)
      onExit()
    },
    keep() {
      process.off('exit', onExit)
    },
  }
}
