// Where purplekind keeps what it can rebuild (Kubernetes binaries, the venv, parsed rules):
// $PURPLEKIND_CACHE, else $XDG_CACHE_HOME/purplekind, else ~/.cache/purplekind.
import { homedir } from 'node:os'
import { join } from 'node:path'

type Env = Readonly<Record<string, string | undefined>>

export function cacheRoot(env: Env = process.env): string {
  if (env.PURPLEKIND_CACHE) return env.PURPLEKIND_CACHE
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'purplekind')
}
