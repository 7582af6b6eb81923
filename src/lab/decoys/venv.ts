// The Python venv holding the real cloud CLIs (aws, az) and moto. Configurable via PURPLEKIND_VENV.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PurpleError } from '../../errors.js'

export const DEFAULT_VENV = '/root/.cache/purplekind/venv'

export function venvDir(): string {
  return process.env.PURPLEKIND_VENV || DEFAULT_VENV
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
