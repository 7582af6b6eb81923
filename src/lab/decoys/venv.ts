// The Python venv holding the real cloud CLIs (aws, az) and moto. Configurable via PURPLEKIND_VENV.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PurpleError } from '../../errors.js'
import { cacheRoot } from '../../util/cache-dir.js'

/**
 * As root, a world-readable place: the local lab runs `aws`/`az` from this venv as the unprivileged
 * sandbox user, who cannot enter /root (0700). Otherwise the user's cache, as scripts/setup.sh does.
 */
export function defaultVenv(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): string {
  if (uid === 0) return '/opt/purplekind/venv'
  return join(cacheRoot(env), 'venv')
}

export function venvDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PURPLEKIND_VENV || defaultVenv(env)
}

/** Path of `bin/<name>` in the venv; a clear PURPLE_ASSETS_MISSING with the pip command when absent. */
export function venvBin(name: string, pipPackage: string): string {
  const venv = venvDir()
  const path = join(venv, 'bin', name)
  if (!existsSync(path)) {
    throw new PurpleError('PURPLE_ASSETS_MISSING', `${name} not found at ${path} (PURPLEKIND_VENV=${venv})`, {
      hint: `python3 -m venv ${venv} && ${venv}/bin/pip install '${pipPackage}'`,
    })
  }
  return path
}
