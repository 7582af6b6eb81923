// `purplekind sweep`: removes everything a crashed run left behind — namespaces, cluster-scoped RBAC,
// stray namespaced objects, docker containers — found by the labels every run puts on what it creates
// (purplekind.io/managed=true and purplekind.io/run). The lab's own parts carry the managed label too
// (kind node containers and network, kube-router's RBAC) but no run label: they are never swept.
// Deleting a managed namespace takes its contents with it, so objects inside one are not listed.
import type Docker from 'dockerode'
import { PurpleError } from '../errors.js'
import { KubeApi, resourcePath } from '../kube/api.js'
import { MANAGED_LABEL, RUN_LABEL } from './provider.js'
import { assertSafeContext, MANAGED_SELECTOR } from './safety.js'

/** What a run created: managed and tied to a run (label present, any run). */
const RUN_OBJECTS_SELECTOR = `${MANAGED_SELECTOR},${RUN_LABEL}`

/** Kinds swept (with their REST resource), cluster-scoped first; namespaced kinds are listed across all namespaces. */
export const SWEPT_KINDS: readonly { kind: string; resource: string; namespaced: boolean }[] = [
  { kind: 'Namespace', resource: 'namespaces', namespaced: false },
  { kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', namespaced: false },
  { kind: 'ClusterRole', resource: 'clusterroles', namespaced: false },
  { kind: 'Pod', resource: 'pods', namespaced: true },
  { kind: 'Secret', resource: 'secrets', namespaced: true },
  { kind: 'ConfigMap', resource: 'configmaps', namespaced: true },
  { kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true },
  { kind: 'Service', resource: 'services', namespaced: true },
  { kind: 'RoleBinding', resource: 'rolebindings', namespaced: true },
  { kind: 'Role', resource: 'roles', namespaced: true },
  { kind: 'NetworkPolicy', resource: 'networkpolicies', namespaced: true },
]

/** The object fields sweep reads. */
interface ListedObject {
  metadata?: {
    name?: string
    namespace?: string
    creationTimestamp?: string
    labels?: Record<string, string>
  }
}

export interface SweepItem {
  kind: string
  name: string
  namespace?: string
  /** Creation time (epoch ms) when known. */
  createdMs?: number
  /** The run that created it (its purplekind.io/run label), when labelled. */
  runId?: string
}

export interface SweepOptions {
  kubeconfig: string
  context: string
  allowContexts?: readonly string[]
  /** Also sweep managed docker containers and networks on this engine. */
  docker?: Docker
  /** Only objects older than this many ms (so a concurrent run's objects survive). */
  olderThanMs?: number
  /** Runs in progress (their journal's process is alive): their objects are never touched. */
  liveRuns?: ReadonlySet<string>
  dryRun: boolean
  now?: number
}

export interface SweepReport {
  dryRun: boolean
  /** Removed (or, in a dry run, would be removed). */
  removed: SweepItem[]
  /** Left alone: they belong to a run still in progress. */
  live: SweepItem[]
  failed: { item: SweepItem; error: string }[]
}

export async function sweep(options: SweepOptions): Promise<SweepReport> {
  // Sweep deletes; it runs only where the harness itself would run.
  assertSafeContext({
    kubeconfig: options.kubeconfig,
    context: options.context,
    allowContexts: options.allowContexts ?? [],
  })
  const api = KubeApi.fromKubeconfig(options.kubeconfig, options.context)
  const planOptions = {
    now: options.now ?? Date.now(),
    olderThanMs: options.olderThanMs,
    liveRuns: options.liveRuns,
  }

  const kubeInventory = await listManaged(api)
  const dockerInventory = options.docker ? await listManagedDocker(options.docker) : []
  const kubeItems = planSweep(kubeInventory, planOptions)
  const dockerItems = planSweep(dockerInventory, planOptions)
  const report: SweepReport = {
    dryRun: options.dryRun,
    removed: [],
    live: [...kubeInventory, ...dockerInventory].filter(
      (i) => i.runId !== undefined && options.liveRuns?.has(i.runId),
    ),
    failed: [],
  }
  for (const item of [...kubeItems, ...dockerItems]) {
    if (options.dryRun) {
      report.removed.push(item)
      continue
    }
    try {
      if (item.kind.startsWith('docker/')) await removeDocker(options.docker!, item)
      else if (!(await removeKube(api, item))) continue // already gone (e.g. with its namespace)
      report.removed.push(item)
    } catch (error) {
      report.failed.push({ item, error: (error as Error).message })
    }
  }
  return report
}

/**
 * Decides what to delete from an inventory (pure, unit-tested): drops objects inside a managed namespace
 * that is itself deleted, objects younger than `olderThanMs`, and objects of a run still in progress.
 * Docker containers go before networks.
 */
export function planSweep(
  items: readonly SweepItem[],
  options: { now: number; olderThanMs?: number | undefined; liveRuns?: ReadonlySet<string> | undefined },
): SweepItem[] {
  const old = (i: SweepItem) =>
    !(i.runId !== undefined && options.liveRuns?.has(i.runId)) &&
    (options.olderThanMs === undefined ||
      (i.createdMs !== undefined && options.now - i.createdMs >= options.olderThanMs))
  const doomedNamespaces = new Set(items.filter((i) => i.kind === 'Namespace' && old(i)).map((i) => i.name))
  return items.filter((i) => old(i) && !(i.namespace && doomedNamespaces.has(i.namespace)))
}

async function listManaged(api: KubeApi): Promise<SweepItem[]> {
  const items: SweepItem[] = []
  const selector = encodeURIComponent(RUN_OBJECTS_SELECTOR)
  for (const type of SWEPT_KINDS) {
    let list: ListedObject[]
    try {
      const res = await api.must('GET', `${resourcePath(type.resource)}?labelSelector=${selector}`)
      const body = res.body as { items?: unknown } | undefined
      if (!Array.isArray(body?.items)) throw new Error('the answer is not a list')
      list = body.items as ListedObject[]
    } catch (cause) {
      throw new PurpleError(
        'PURPLE_COMMAND_FAILED',
        `sweep: cannot list ${type.kind} objects labelled ${RUN_OBJECTS_SELECTOR}: ${(cause as Error).message}`,
        { cause },
      )
    }
    for (const obj of list) items.push(toItem(type.kind, obj))
  }
  return items
}

function toItem(kind: string, obj: ListedObject): SweepItem {
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined)
  const created = text(obj?.metadata?.creationTimestamp)
  const runId = text(obj?.metadata?.labels?.[RUN_LABEL])
  const namespace = text(obj?.metadata?.namespace)
  return {
    kind,
    name: text(obj?.metadata?.name) ?? '',
    ...(runId ? { runId } : {}),
    ...(namespace ? { namespace } : {}),
    ...(created ? { createdMs: new Date(created).getTime() } : {}),
  }
}

/** Deletes one object (its dependents in the background); false when it was already gone. */
async function removeKube(api: KubeApi, item: SweepItem): Promise<boolean> {
  const type = SWEPT_KINDS.find((t) => t.kind === item.kind)!
  // Without a name the path would name the whole collection: never send that.
  if (!item.name || (type.namespaced && !item.namespace))
    throw new PurpleError('PURPLE_COMMAND_FAILED', `sweep: a listed ${item.kind} has no name or namespace`)
  const res = await api.must(
    'DELETE',
    resourcePath(type.resource, type.namespaced ? item.namespace : undefined, item.name),
    { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
    [404],
  )
  return res.status !== 404
}

async function listManagedDocker(docker: Docker): Promise<SweepItem[]> {
  const filters = { label: [`${MANAGED_LABEL}=true`, RUN_LABEL] }
  const containers = await docker.listContainers({ all: true, filters })
  const networks = await docker.listNetworks({ filters })
  return [
    ...containers.map((c) => ({
      kind: 'docker/container',
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      createdMs: c.Created * 1000,
      ...(c.Labels?.[RUN_LABEL] ? { runId: c.Labels[RUN_LABEL] } : {}),
    })),
    ...networks.map((n) => ({
      kind: 'docker/network',
      name: n.Name,
      ...(n.Labels?.[RUN_LABEL] ? { runId: n.Labels[RUN_LABEL] } : {}),
      ...(n.Created ? { createdMs: new Date(n.Created).getTime() } : {}),
    })),
  ]
}

async function removeDocker(docker: Docker, item: SweepItem): Promise<void> {
  if (item.kind === 'docker/container') await docker.getContainer(item.name).remove({ force: true })
  else await docker.getNetwork(item.name).remove()
}
