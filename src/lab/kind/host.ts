// What this host needs from the kind provider beyond stock kind. Each workaround is applied only when its
// check finds the need, and `lab up` prints what it found (docs/kind.md, "Host workarounds").
import { readFileSync, statfsSync } from 'node:fs'
import { execa } from 'execa'
import type { HostPatches } from './config.js'

export interface HostFindings extends HostPatches {
  /**
   * `docker run --privileged` fails: older Docker Engines (20.10) hand a privileged container every
   * capability they know, and runc cannot raise one the host's bounding set lacks. kind then gets
   * kind/docker-shim.sh as its `docker`, which asks for what kind needs minus the missing capabilities.
   */
  dockerShim: boolean
  /** One line per finding, for the log. */
  notes: string[]
}

const CAP_SYS_RESOURCE = 24
const CGROUP2_MAGIC = 0x63677270

/** The capability bounding set of this process (from /proc/self/status). */
export function boundingSet(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const hex = status.match(/^CapBnd:\s*([0-9a-f]+)$/m)?.[1]
  return hex ? BigInt(`0x${hex}`) : (1n << 41n) - 1n
}

export function isCgroupV1(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type !== CGROUP2_MAGIC
  } catch {
    return false
  }
}

/** Can Docker start a privileged container here? Tries it once with the node image. */
export async function privilegedWorks(docker: string, image: string): Promise<{ ok: boolean; why: string }> {
  const r = await execa(
    docker,
    ['run', '--rm', '--privileged', '--network', 'none', '--entrypoint', '/bin/true', image],
    { reject: false, timeout: 60_000 },
  )
  return { ok: r.exitCode === 0, why: (r.stderr || r.shortMessage || '').split('\n')[0] ?? '' }
}

export async function hostFindings(docker: string, image: string): Promise<HostFindings> {
  const notes: string[] = []
  const cgroupV1 = isCgroupV1()
  if (cgroupV1)
    notes.push('host uses cgroup v1: kubelet failCgroupV1=false, kubeadm skips SystemVerification')
  const restrictOomScoreAdj = (boundingSet() & (1n << BigInt(CAP_SYS_RESOURCE))) === 0n
  if (restrictOomScoreAdj)
    notes.push('host withholds CAP_SYS_RESOURCE: containerd restrict_oom_score_adj=true')
  const privileged = await privilegedWorks(docker, image)
  const dockerShim = !privileged.ok && /caps|capabilit|operation not permitted/i.test(privileged.why)
  if (dockerShim)
    notes.push(`docker run --privileged fails (${privileged.why}): kind uses kind/docker-shim.sh`)
  return { cgroupV1, restrictOomScoreAdj, dockerShim, notes }
}
