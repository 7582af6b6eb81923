// Which kubectl runs the steps against an existing cluster. Steps impersonate with --as-user-extra (the
// step marker), which old clients lack: with one of those every impersonated step fails. So use the lab's
// pinned kubectl when it is built, else accept the kubectl on PATH only if it is recent enough.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'
import { resolveAssets } from '../assets.js'

/** The oldest kubectl minor that has every flag the harness passes (--as-user-extra). */
export const MIN_KUBECTL_MINOR = 33

/** `kubectl version --client -o json` → the client's minor version, or undefined when unreadable. */
export function kubectlClientMinor(json: string): number | undefined {
  try {
    const v = (JSON.parse(json) as { clientVersion?: { major?: string; minor?: string } }).clientVersion
    if (v?.major !== '1') return undefined
    const minor = Number.parseInt(v.minor ?? '', 10)
    return Number.isFinite(minor) ? minor : undefined
  } catch {
    return undefined
  }
}

/**
 * The directory of the kubectl to use (the Lab's binDir), or undefined for the one on PATH once its
 * version is checked. Throws PURPLE_PREFLIGHT_FAILED for a kubectl too old (or missing) to run the steps.
 */
export async function kubectlBinDir(log: (line: string) => void): Promise<string | undefined> {
  const pinned = await resolveAssets({ build: false, log }).catch(() => undefined)
  if (pinned && existsSync(join(pinned.binDir, 'kubectl'))) {
    log(`kubectl: the lab's pinned build in ${pinned.binDir}`)
    return pinned.binDir
  }
  const r = await execa('kubectl', ['version', '--client', '-o', 'json'], { reject: false, stdin: 'ignore' })
  const minor = r.exitCode === 0 ? kubectlClientMinor(r.stdout) : undefined
  if (minor === undefined || minor < MIN_KUBECTL_MINOR) {
    throw new PurpleError(
      'PURPLE_PREFLIGHT_FAILED',
      minor === undefined
        ? 'no usable kubectl: the lab binaries are not built and `kubectl version --client` failed'
        : `kubectl on PATH is 1.${minor}; the steps need 1.${MIN_KUBECTL_MINOR}+ (--as-user-extra)`,
      {
        hint: 'run `purplekind lab build` (the pinned kubectl is then used), or put a newer kubectl first on PATH',
      },
    )
  }
  log(`kubectl: 1.${minor} from PATH (the lab binaries are not built)`)
  return undefined
}
