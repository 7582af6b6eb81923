// Finds (or builds) the local lab's binaries: an explicit directory from the environment, else the
// per-version cache that lab/assets/build.sh fills, else — when allowed — runs that build.
import { accessSync, constants, existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { PurpleError } from '../errors.js'
import { cacheRoot } from '../util/cache-dir.js'

export { cacheRoot }

export const VERSIONS = { kubernetes: 'v1.36.3', etcd: 'v3.6.16', kwok: 'v0.8.0' } as const
export const REQUIRED_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kubectl',
  'kube-controller-manager',
  'kwok',
] as const

export interface Assets {
  readonly binDir: string
  /** kwok's stage manifests (node-initialize, pod-ready, ...), copied from its module by build.sh. */
  readonly stagesDir: string
  readonly versions: Readonly<Record<string, string>>
  /** Where binDir came from, for the manifest and error messages. */
  readonly origin: 'env' | 'cache' | 'built'
}

type Env = Readonly<Record<string, string | undefined>>

export function cacheBinDir(env: Env = process.env): string {
  const v = VERSIONS
  return join(cacheRoot(env), `k8s-${v.kubernetes}-etcd-${v.etcd}-kwok-${v.kwok}`, 'bin')
}

/** The repository (or installed package) root: the nearest ancestor holding package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new PurpleError('PURPLE_INTERNAL', 'cannot locate the purplekind package root')
    dir = up
  }
  return dir
}

/** The audit policy every lab purplekind brings up runs with (lab/audit-policy.yaml, shipped in the package). */
export function auditPolicyFile(): string {
  return join(packageRoot(), 'lab', 'audit-policy.yaml')
}

export function missingBinaries(dir: string): string[] {
  return REQUIRED_BINARIES.filter((b) => {
    try {
      accessSync(join(dir, b), constants.X_OK)
      return false
    } catch {
      return true
    }
  })
}

function stagesFor(binDir: string, env: Env): string | undefined {
  const candidates = [join(binDir, '..', 'kwok-stages'), join(binDir, 'kwok-stages')]
  if (env.GOMODCACHE)
    candidates.push(join(env.GOMODCACHE, `sigs.k8s.io/kwok@${VERSIONS.kwok}/kustomize/stage`))
  else
    candidates.push(
      join(env.HOME || homedir(), 'go', 'pkg', 'mod', `sigs.k8s.io/kwok@${VERSIONS.kwok}/kustomize/stage`),
    )
  return candidates.find((d) => existsSync(join(d, 'pod', 'fast', 'pod-ready.yaml')))
}

function complete(binDir: string, origin: Assets['origin'], env: Env): Assets | string[] {
  const missing = missingBinaries(binDir)
  const stagesDir = stagesFor(binDir, env)
  if (!stagesDir) missing.push('kwok-stages (kwok stage manifests)')
  if (missing.length > 0 || !stagesDir) return missing
  return { binDir, stagesDir, versions: { ...VERSIONS }, origin }
}

export async function resolveAssets(opts: {
  build: boolean
  log: (line: string) => void
  env?: Env
}): Promise<Assets> {
  const env = opts.env ?? process.env
  const varName = env.PURPLEKIND_ASSETS
    ? 'PURPLEKIND_ASSETS'
    : env.KUBEBUILDER_ASSETS
      ? 'KUBEBUILDER_ASSETS'
      : ''
  if (varName) {
    const dir = env[varName] as string
    const found = complete(dir, 'env', env)
    if (!Array.isArray(found)) return found
    throw new PurpleError('PURPLE_ASSETS_MISSING', `${varName}=${dir} lacks: ${found.join(', ')}`, {
      hint: `put ${REQUIRED_BINARIES.join(', ')} (kwok stage manifests in ../kwok-stages) there, or unset ${varName} and run \`purplekind lab build\``,
    })
  }
  const cached = complete(cacheBinDir(env), 'cache', env)
  if (!Array.isArray(cached)) return cached
  if (!opts.build) {
    throw new PurpleError(
      'PURPLE_ASSETS_MISSING',
      `lab binaries missing from ${cacheBinDir(env)}: ${cached.join(', ')}`,
      {
        hint: 'run `purplekind lab build` (needs Go 1.26 and the Go module proxy; ~20-40 min cold), or set PURPLEKIND_ASSETS',
      },
    )
  }
  const built = await buildAssets(opts.log, env)
  return built
}

/** Runs lab/assets/build.sh, streaming its progress lines to `log`. */
export async function buildAssets(log: (line: string) => void, env: Env = process.env): Promise<Assets> {
  const script = join(packageRoot(), 'lab', 'assets', 'build.sh')
  log(`building lab binaries with ${script} (cold builds take 20-40 min)`)
  const child = execa('bash', [script, cacheBinDir(env)], {
    env: { ...env, PURPLEKIND_CACHE: cacheRoot(env) },
    reject: false,
  })
  if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => line.trim() && log(line))
  const result = await child
  if (result.exitCode !== 0) {
    throw new PurpleError('PURPLE_ASSETS_MISSING', `lab binary build failed (exit ${result.exitCode})`, {
      hint: 'check that `go version` is 1.26 and the Go module proxy is reachable; rerun `purplekind lab build`',
    })
  }
  const found = complete(cacheBinDir(env), 'built', env)
  if (Array.isArray(found)) {
    throw new PurpleError('PURPLE_ASSETS_MISSING', `build finished but still missing: ${found.join(', ')}`)
  }
  return found
}
