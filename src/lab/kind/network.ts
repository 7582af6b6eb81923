// Each kind lab gets its own labelled docker network (kind joins it via KIND_EXPERIMENTAL_DOCKER_NETWORK).
// Creating it ourselves, before the cluster, means the gateway address — where the audit receiver and the
// IMDS decoy listen — is known in time to render the webhook kubeconfig, and sweep can find the network.
import type Docker from 'dockerode'
import { PurpleError } from '../../errors.js'
import { MANAGED_LABEL } from '../provider.js'

export interface LabNetwork {
  name: string
  /** IPv4 gateway: the host's address on the bridge, reachable from every node container. */
  gateway: string
  subnet: string
}

/** Returns the lab network, creating it (IPv4 bridge, masquerading on) if it does not exist yet. */
export async function ensureLabNetwork(docker: Docker, name: string): Promise<LabNetwork> {
  const existing = await inspectNetwork(docker, name)
  if (existing) return existing
  await docker.createNetwork({
    Name: name,
    Driver: 'bridge',
    CheckDuplicate: true,
    Labels: { [MANAGED_LABEL]: 'true' },
    Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'true' },
  })
  const created = await inspectNetwork(docker, name)
  if (!created)
    throw new PurpleError('PURPLE_LAB_FAILED', `docker network ${name} vanished right after creation`)
  return created
}

export async function inspectNetwork(docker: Docker, name: string): Promise<LabNetwork | undefined> {
  let info: { IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> } }
  try {
    info = await docker.getNetwork(name).inspect()
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined
    throw new PurpleError('PURPLE_LAB_FAILED', `cannot inspect docker network ${name}`, { cause: error })
  }
  return parseNetwork(name, info)
}

/** Picks the IPv4 subnet and gateway from `docker network inspect` output. */
export function parseNetwork(
  name: string,
  info: { IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> } },
): LabNetwork {
  const v4 = (info.IPAM?.Config ?? []).find((c) => c.Subnet && !c.Subnet.includes(':'))
  if (!v4?.Subnet) {
    throw new PurpleError('PURPLE_LAB_FAILED', `docker network ${name} has no IPv4 subnet`)
  }
  // Docker leaves Gateway empty on some engines; the bridge then takes the subnet's first address.
  const gateway = v4.Gateway || firstHost(v4.Subnet)
  return { name, gateway, subnet: v4.Subnet }
}

function firstHost(subnet: string): string {
  const parts = (subnet.split('/')[0] ?? '').split('.').map(Number)
  parts[3] = (parts[3] ?? 0) + 1
  return parts.join('.')
}

/** Removes the lab network; absent is fine (down must work after a partial up). */
export async function removeLabNetwork(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getNetwork(name).remove()
    return true
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false
    throw new PurpleError('PURPLE_LAB_FAILED', `cannot remove docker network ${name}`, { cause: error })
  }
}
