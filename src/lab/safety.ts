// The guard every provider runs before touching a cluster: the harness only acts on a context that is
// provably a purplekind lab, or one the user named with --allow-context, and never on a cloud cluster.
import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { PurpleError } from '../errors.js'
import { MANAGED_LABEL, RUN_LABEL } from './provider.js'
import { labContextPatterns } from './registry.js'

export { MANAGED_LABEL, RUN_LABEL }

/** Context names a purplekind provider creates, as each provider declares them (registry.ts). */
export const LAB_CONTEXT_PATTERNS: readonly RegExp[] = labContextPatterns()

/** Selector matching every object the harness created, across runs. */
export const MANAGED_SELECTOR = `${MANAGED_LABEL}=true`

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)$/

/** Labels put on every object of one run, so sweep and the leak check can find them. */
export function labelsFor(runId: string): Record<string, string> {
  if (!LABEL_VALUE.test(runId)) {
    throw new PurpleError('PURPLE_USAGE', `run id '${runId}' is not a valid Kubernetes label value`, {
      hint: 'use at most 63 characters: letters, digits, "-", "_" or ".", starting and ending alphanumeric',
    })
  }
  return { [MANAGED_LABEL]: 'true', [RUN_LABEL]: runId }
}

/** Selector matching the objects of one run. */
export function runSelector(runId: string): string {
  const labels = labelsFor(runId)
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}

export interface SafeContextOptions {
  kubeconfig: string
  /** Context to act on; defaults to the kubeconfig's current-context. */
  context?: string
  /** Context names the user explicitly allowed (`--allow-context <name>`). */
  allowContexts?: readonly string[]
  /** Extra context names the lab registry knows as purplekind labs. */
  labContexts?: readonly string[]
  /** CIDRs of docker networks the harness created (a kind apiserver may be addressed there). */
  labNetworks?: readonly string[]
}

export interface SafeContext {
  context: string
  server: string
  /** Why it was accepted: a recognised lab, or named by the user. */
  reason: 'lab' | 'allowed'
}

/**
 * Accepts a context only if (a) the user allowed it by exact name, or (b) its name says purplekind lab
 * AND its apiserver is on loopback or a harness-created docker network. Throws PURPLE_CONTEXT_REFUSED.
 */
export function assertSafeContext(options: SafeContextOptions): SafeContext {
  const kc = loadKubeconfig(options.kubeconfig)
  const name = options.context ?? kc.getCurrentContext()
  const ctx = kc.getContextObject(name)
  if (!name || !ctx) {
    throw refused(`context '${name || '(none)'}' is not defined in ${options.kubeconfig}`, name)
  }
  const server = kc.getCluster(ctx.cluster)?.server
  if (!server) {
    throw refused(`context '${name}' in ${options.kubeconfig} has no cluster server URL`, name)
  }
  if (options.allowContexts?.includes(name)) return { context: name, server, reason: 'allowed' }
  const labName = isLabContextName(name) || (options.labContexts ?? []).includes(name)
  if (!labName) {
    throw refused(
      `context '${name}' is not a purplekind lab (names start with purplekind- or kind-purplekind)`,
      name,
    )
  }
  if (!isLabServer(server, options.labNetworks ?? [])) {
    throw refused(
      `context '${name}' looks like a lab but its server ${server} is neither loopback nor a purplekind docker network`,
      name,
    )
  }
  return { context: name, server, reason: 'lab' }
}

export function isLabContextName(name: string): boolean {
  return LAB_CONTEXT_PATTERNS.some((re) => re.test(name))
}

/** True when the server URL's host is loopback or inside one of `networks` (IPv4 CIDRs). */
export function isLabServer(server: string, networks: readonly string[]): boolean {
  let host: string
  try {
    host = new URL(server).hostname.replace(/^\[|\]$/g, '')
  } catch {
    return false
  }
  if (host === 'localhost' || host === '::1') return true
  if (isIP(host) !== 4) return false
  return inCidr(host, '127.0.0.0/8') || networks.some((cidr) => inCidr(host, cidr))
}

/** IPv4-only CIDR membership (kind's docker networks are IPv4 for our purposes). */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/')
  const bits = Number(bitsText)
  if (!base || isIP(base) !== 4 || isIP(ip) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    return false
  }
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
  return (ipToInt(ip) & mask) >>> 0 === (ipToInt(base) & mask) >>> 0
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0)
}

function loadKubeconfig(path: string): KubeConfig {
  if (!existsSync(path)) {
    throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `kubeconfig ${path} does not exist`)
  }
  const kc = new KubeConfig()
  try {
    kc.loadFromFile(path)
  } catch (cause) {
    throw new PurpleError('PURPLE_CONTEXT_REFUSED', `kubeconfig ${path} cannot be parsed`, { cause })
  }
  return kc
}

function refused(message: string, context: string): PurpleError {
  return new PurpleError('PURPLE_CONTEXT_REFUSED', message, {
    hint: `only purplekind labs are used by default; to run against this cluster anyway pass --allow-context ${context || '<name>'}`,
  })
}

// --- cloud clusters -------------------------------------------------------------------------------

/** The node fields the cloud check reads (a V1Node satisfies it). */
export interface NodeLike {
  metadata?: { name?: string; labels?: Record<string, string> }
  spec?: { providerID?: string }
}

const CLOUD_LABEL_PREFIXES = ['eks.amazonaws.com/', 'cloud.google.com/gke', 'kubernetes.azure.com/']
const CLOUD_PROVIDER_IDS = ['aws://', 'gce://', 'azure://']

/** Returns `node: evidence` lines for nodes that belong to EKS, GKE or AKS. */
export function cloudNodeEvidence(nodes: readonly NodeLike[]): string[] {
  const evidence: string[] = []
  for (const node of nodes) {
    const name = node.metadata?.name ?? '(unnamed)'
    const label = Object.keys(node.metadata?.labels ?? {}).find((k) =>
      CLOUD_LABEL_PREFIXES.some((p) => k.startsWith(p)),
    )
    if (label) evidence.push(`${name}: label ${label}`)
    const providerID = node.spec?.providerID ?? ''
    if (CLOUD_PROVIDER_IDS.some((p) => providerID.startsWith(p)))
      evidence.push(`${name}: providerID ${providerID}`)
  }
  return evidence
}

/**
 * Refuses a cloud-managed cluster even when allowed by name: the harness runs credential-access
 * procedures, and on EKS/GKE/AKS those could reach real cloud credentials. `iKnowThisIsNotALab`
 * (`--i-know-this-is-not-a-lab`) is the loud override.
 */
export function assertNotCloudCluster(
  context: string,
  nodes: readonly NodeLike[],
  iKnowThisIsNotALab = false,
): void {
  const evidence = cloudNodeEvidence(nodes)
  if (evidence.length === 0 || iKnowThisIsNotALab) return
  throw new PurpleError(
    'PURPLE_CONTEXT_REFUSED',
    `context '${context}' is a cloud-managed cluster (${evidence.slice(0, 3).join('; ')})`,
    {
      hint: 'use a disposable lab; pass --i-know-this-is-not-a-lab only if you own this cluster and accept the risk',
    },
  )
}
