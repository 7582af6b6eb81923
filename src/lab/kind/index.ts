// The kind lab: real pods in a kind cluster, apiserver audit to a webhook receiver on the host, the
// node's CRI logs tailed from a bind mount, 169.254.169.254 and the cloud decoys reachable from pods and
// nothing else outside the lab. kind itself is driven through kind/up.sh and kind/down.sh. The node image
// is purplekind's own, built locally by kind/node-image/build.sh (`purplekind lab build --env kind`), or a
// kindest/node the user already has.
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Docker from 'dockerode'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'
import { auditPolicyFile, cacheBinDir, cacheRoot, packageRoot, VERSIONS } from '../assets.js'
import type { Lab, LabProvider } from '../provider.js'
import { assertSafeContext } from '../safety.js'
import { type HostPatches, type KindCni, renderKindConfig, renderWebhookKubeconfig } from './config.js'
import { hostFindings } from './host.js'
import { nodeGuardScript } from './imds.js'
import { ensureLabNetwork, removeLabNetwork } from './network.js'
import { podLogsCollector } from './pod-logs.js'
import { WORKLOAD_IMAGE, writeRunPodFiles } from './pods.js'
import { type KindLabServices, type StartKindServices, startKindServices } from './services.js'

/** A kindest/node a user may already have (kind v0.33.0's build for Kubernetes 1.36). */
export const DEFAULT_NODE_IMAGE =
  'kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed'
/** purplekind's locally built node image (kind/node-image/build.sh), tagged per Kubernetes version. */
export const PURPLEKIND_NODE_REPO = 'purplekind/node'
export const KIND_VERSION = 'v0.33.0'
const NODE_VERSIONS = { etcd: 'v3.6.16', coredns: 'v1.15.0', kubeRouter: 'v2.1.0' } as const

const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/

/** kind cluster name for a lab name; always purplekind-prefixed so the context guard recognises it. */
export function kindClusterName(name: string): string {
  const full = name === 'purplekind' || name.startsWith('purplekind-') ? name : `purplekind-${name}`
  if (!CLUSTER_NAME.test(full)) {
    throw new PurpleError('PURPLE_USAGE', `lab name '${name}' cannot name a kind cluster`, {
      hint: 'use lowercase letters, digits and "-" (at most 40 characters with the purplekind- prefix)',
    })
  }
  return full
}

/** Where kind/node-image/build.sh keeps the kind lab's binaries and image archives. */
export function kindAssetsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `kind-${VERSIONS.kubernetes}`)
}

/** The kind binary: the one build.sh made, else kind on PATH. */
export function kindBinary(): string {
  const built = join(kindAssetsDir(), 'bin', 'kind')
  return existsSync(built) ? built : 'kind'
}

/** Availability probes; replaceable in tests (nothing else is). */
export interface KindProbes {
  /** `kind version` output, or undefined when kind is not found. */
  kindVersion(): Promise<string | undefined>
  /** Docker Engine version, or undefined when no engine answers. */
  dockerVersion(): Promise<string | undefined>
  /** Local node images: purplekind/node first, then kindest/node. */
  nodeImages(): Promise<string[]>
}

export interface KindProviderOptions {
  probes?: KindProbes
  startServices?: StartKindServices
  /** Root of per-lab state (default <cache>/labs). */
  stateRoot?: string
  image?: string
  cni?: KindCni
}

export function createKindProvider(options: KindProviderOptions = {}): LabProvider {
  const docker = new Docker()
  const probes = options.probes ?? realProbes(docker)
  const startServices = options.startServices ?? startKindServices
  const running = new Map<string, KindLabServices>()
  const stateDir = (cluster: string) => join(options.stateRoot ?? join(cacheRoot(), 'labs'), cluster)

  return {
    name: 'kind',

    async available() {
      try {
        return await checkAvailable(probes)
      } catch (error) {
        return { ok: false, reason: `kind probe failed: ${(error as Error).message}` }
      }
    },

    async up({ name, log }) {
      const started = Date.now()
      const cluster = kindClusterName(name)
      const availability = await checkAvailable(probes)
      if (!availability.ok)
        throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', `kind lab: ${availability.reason}`)
      const dir = stateDir(cluster)
      mkdirSync(join(dir, 'audit'), { recursive: true, mode: 0o700 })
      chmodSync(dir, 0o700)
      const image = options.image ?? pickNodeImage(await probes.nodeImages())
      const ours = image.startsWith(`${PURPLEKIND_NODE_REPO}:`)
      log(`kind: node image ${image}${ours ? ' (built locally by purplekind)' : ''}`)
      const host = await hostFindings('docker', image)
      for (const note of host.notes) log(`kind: host: ${note}`)
      const network = await ensureLabNetwork(docker, cluster)
      log(`kind: lab network ${network.name} ${network.subnet}, services on ${network.gateway}`)
      const services = await startServices({ host: network.gateway, stateDir: dir, log })
      running.set(cluster, services)
      try {
        const files = kindLabFiles({
          cluster,
          dir,
          services,
          image,
          ...(options.cni ? { cni: options.cni } : {}),
          ...(ours ? { purplekindImage: true } : {}),
          host,
        })
        writeLabFiles(files)
        const kubectl = join(cacheBinDir(), 'kubectl')
        await runScript(
          'up.sh',
          [cluster, files.kindConfig.path, files.guardScript.path],
          {
            KUBECONFIG: files.kubeconfig,
            PURPLEKIND_KIND_NETWORK: network.name,
            PURPLEKIND_KIND: kindBinary(),
            ...(existsSync(kubectl) ? { PURPLEKIND_KUBECTL: kubectl } : {}),
            ...(host.dockerShim ? { PURPLEKIND_DOCKER_SHIM: '1' } : {}),
            ...(ours
              ? { PURPLEKIND_NETPOL_MANIFEST: join(packageRoot(), 'kind', 'kube-router.yaml') }
              : workloadArchive()),
          },
          log,
        )
        const context = `kind-${cluster}`
        assertSafeContext({ kubeconfig: files.kubeconfig, context, labNetworks: [network.subnet] })
        const nodeName = `${cluster}-control-plane`
        const clientCA = await exportClusterCA(nodeName, join(dir, 'cluster-ca'))
        const runtime = await nodeRuntime(docker, nodeName)
        log(`kind: lab ${cluster} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
        return labFor({
          cluster,
          context,
          kubeconfig: files.kubeconfig,
          services,
          gateway: network.gateway,
          podLogDir: files.podLogDir,
          podFilesDir: files.podFilesDir,
          clientCA,
          binDir: existsSync(kubectl) ? cacheBinDir() : undefined,
          networkPolicy: ours ? 'kube-router' : 'kindnetd',
          manifest: {
            provider: 'kind',
            'kind.version': (await probes.kindVersion()) ?? 'unknown',
            'kind.nodeImage': image,
            'kind.node': nodeName,
            'kind.runtime': runtime,
            'kind.cni': ours ? 'bridge (node image)' : (options.cni ?? 'kindnet'),
            'kind.networkPolicy': ours ? `kube-router ${NODE_VERSIONS.kubeRouter}` : 'kindnetd',
            'kind.hostWorkarounds': host.notes.length ? host.notes.join('; ') : 'none',
            'kind.network': `${network.name} ${network.subnet}`,
            'audit.policySha256': sha256(readFileSync(files.auditPolicy)),
            'audit.backend': 'webhook (batch, max wait 1s) + json log',
            pods: `real containers (${WORKLOAD_IMAGE})`,
          },
        })
      } catch (error) {
        await services.stop()
        running.delete(cluster)
        throw error
      }
    },

    async down({ name, log }) {
      const cluster = kindClusterName(name)
      await running.get(cluster)?.stop()
      running.delete(cluster)
      await runScript(
        'down.sh',
        [cluster],
        { KUBECONFIG: join(stateDir(cluster), 'kubeconfig'), PURPLEKIND_KIND: kindBinary() },
        log,
      )
      if (await removeLabNetwork(docker, cluster)) log(`kind: removed docker network ${cluster}`)
      // The lab directory holds the webhook token, the cluster CA key and the audit log: all go.
      rmSync(stateDir(cluster), { recursive: true, force: true })
    },

    async status({ name }) {
      const cluster = kindClusterName(name)
      const result = await execa(kindBinary(), ['get', 'clusters'], { reject: false })
      if (result.failed) return { running: false, detail: `kind unavailable: ${result.shortMessage}` }
      const up = result.stdout.split('\n').includes(cluster)
      return {
        running: up,
        detail: up ? `kind cluster ${cluster} (context kind-${cluster})` : `no kind cluster ${cluster}`,
      }
    },
  }
}

export const kindProvider: LabProvider = createKindProvider()

/** The three conditions `--env auto` needs, with the first missing one as the reason. */
export async function checkAvailable(probes: KindProbes): Promise<{ ok: boolean; reason?: string }> {
  if (!(await probes.kindVersion())) {
    return { ok: false, reason: 'kind not found (purplekind lab build --env kind builds it)' }
  }
  if (!(await probes.dockerVersion())) {
    return { ok: false, reason: 'no Docker Engine answers on /var/run/docker.sock' }
  }
  if ((await probes.nodeImages()).length === 0) {
    return {
      ok: false,
      reason:
        'no kind node image present locally (purplekind lab build --env kind builds one; purplekind never pulls)',
    }
  }
  return { ok: true }
}

/**
 * A node image present locally (so kind never pulls): purplekind's own build for our Kubernetes version
 * first, then a kindest/node of the same minor, then anything found.
 */
export function pickNodeImage(local: readonly string[]): string {
  const ours = local.find((ref) => ref.startsWith(`${PURPLEKIND_NODE_REPO}:${VERSIONS.kubernetes}-`))
  const minor = DEFAULT_NODE_IMAGE.match(/^kindest\/node:(v\d+\.\d+)\./)?.[1] ?? ''
  const image =
    ours ??
    local.find((ref) => ref.startsWith(`${PURPLEKIND_NODE_REPO}:`)) ??
    local.find((ref) => ref.startsWith(`kindest/node:${minor}.`)) ??
    local[0]
  if (!image) throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', 'no kind node image present locally')
  return image
}

function realProbes(docker: Docker): KindProbes {
  return {
    async kindVersion() {
      const r = await execa(kindBinary(), ['version'], { reject: false })
      return r.failed ? undefined : r.stdout.trim()
    },
    async dockerVersion() {
      try {
        return (await docker.version()).Version
      } catch {
        return undefined
      }
    },
    async nodeImages() {
      const refs = (list: string[] | undefined) => (list ?? []).filter((r) => !r.startsWith('<none>'))
      const find = async (reference: string) =>
        (await docker.listImages({ filters: { reference: [reference] } })).flatMap((i) =>
          refs(i.RepoTags).length ? refs(i.RepoTags) : refs(i.RepoDigests),
        )
      // Our tags carry an input hash; the newest build comes first.
      const ours = (await find(PURPLEKIND_NODE_REPO))
        .filter((r) => /:v\d+\.\d+\.\d+-[0-9a-f]{12}$/.test(r))
        .sort()
        .reverse()
      return [...ours, ...(await find('kindest/node'))]
    },
  }
}

/** The workload image archive, for a kindest/node that lacks it (ours is preloaded). */
function workloadArchive(): Record<string, string> {
  const tar = join(kindAssetsDir(), 'images', 'workload.tar')
  return existsSync(tar) ? { PURPLEKIND_WORKLOAD_ARCHIVE: tar } : {}
}

export interface KindLabFiles {
  kindConfig: { path: string; content: string }
  webhookConfig: { path: string; content: string; mode: number }
  guardScript: { path: string; content: string }
  auditPolicy: string
  kubeconfig: string
  logDir: string
  podLogDir: string
  podFilesDir: string
}

/** Everything written into the lab directory before `kind create cluster` (pure; unit-tested). */
export function kindLabFiles(options: {
  cluster: string
  dir: string
  services: Pick<KindLabServices, 'audit' | 'imds' | 'cloudRelays'>
  image?: string
  cni?: KindCni
  auditPolicyPath?: string
  purplekindImage?: boolean
  host?: HostPatches
}): KindLabFiles {
  const auditPolicy = options.auditPolicyPath ?? auditPolicyFile()
  const logDir = join(options.dir, 'audit')
  const podLogDir = join(options.dir, 'pod-logs')
  const podFilesDir = join(options.dir, 'pod-files')
  const webhookPath = join(options.dir, 'audit-webhook.kubeconfig')
  const { url, caPem, token } = options.services.audit
  return {
    kindConfig: {
      path: join(options.dir, 'kind.yaml'),
      content: renderKindConfig({
        name: options.cluster,
        auditPolicyPath: auditPolicy,
        webhookConfigPath: webhookPath,
        logDir,
        podLogDir,
        podFilesDir,
        ...(options.image ? { image: options.image } : {}),
        ...(options.cni ? { cni: options.cni } : {}),
        ...(options.purplekindImage
          ? { purplekindImage: { etcdTag: NODE_VERSIONS.etcd, corednsTag: NODE_VERSIONS.coredns } }
          : {}),
        ...(options.host ? { host: options.host } : {}),
      }),
    },
    // Holds the receiver's bearer token: owner-only.
    webhookConfig: {
      path: webhookPath,
      content: renderWebhookKubeconfig({ server: url, caPem, token }),
      mode: 0o600,
    },
    guardScript: {
      path: join(options.dir, 'node-guard.sh'),
      content: nodeGuardScript({
        imds: options.services.imds,
        allowPorts: [options.services.cloudRelays.aws, options.services.cloudRelays.azure],
      }),
    },
    auditPolicy,
    kubeconfig: join(options.dir, 'kubeconfig'),
    logDir,
    podLogDir,
    podFilesDir,
  }
}

function writeLabFiles(files: KindLabFiles): void {
  if (!existsSync(files.auditPolicy)) {
    throw new PurpleError('PURPLE_ASSETS_MISSING', `audit policy ${files.auditPolicy} does not exist`)
  }
  for (const d of [files.logDir, files.podLogDir, files.podFilesDir]) mkdirSync(d, { recursive: true })
  chmodSync(files.podFilesDir, 0o700)
  writeFileSync(files.kindConfig.path, files.kindConfig.content)
  writeFileSync(files.webhookConfig.path, files.webhookConfig.content, { mode: files.webhookConfig.mode })
  chmodSync(files.webhookConfig.path, files.webhookConfig.mode)
  writeFileSync(files.guardScript.path, files.guardScript.content)
}

/**
 * The cluster CA (kubeadm's, inside the node), kept owner-only in the lab directory: steps acting as a
 * user get a client certificate of their own from it, so the audit event's user is that user, not an
 * impersonating admin. Read once at `lab up`, before any run's collectors exist.
 */
async function exportClusterCA(node: string, dir: string): Promise<{ cert: string; key: string }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const out = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') }
  for (const [file, path] of [
    ['ca.crt', out.cert],
    ['ca.key', out.key],
  ] as const) {
    const r = await execa('docker', ['exec', node, 'cat', `/etc/kubernetes/pki/${file}`], { reject: false })
    if (r.exitCode !== 0)
      throw new PurpleError('PURPLE_LAB_FAILED', `cannot read the cluster CA from ${node}: ${r.stderr}`)
    writeFileSync(path, `${r.stdout}\n`, { mode: 0o600 })
  }
  return out
}

async function nodeRuntime(docker: Docker, node: string): Promise<string> {
  try {
    const info = (await docker.getContainer(node).inspect()) as { Config?: { Image?: string } }
    const image = info.Config?.Image
    const labels = image ? ((await docker.getImage(image).inspect()).Config?.Labels ?? {}) : {}
    return labels['purplekind.io/runtime'] ?? 'containerd (kindest/node)'
  } catch {
    return 'unknown'
  }
}

function labFor(options: {
  cluster: string
  context: string
  kubeconfig: string
  services: KindLabServices
  gateway: string
  podLogDir: string
  podFilesDir: string
  clientCA: { cert: string; key: string }
  binDir: string | undefined
  networkPolicy: string
  manifest: Record<string, string>
}): Lab {
  const { services } = options
  return {
    provider: 'kind',
    name: options.cluster,
    kubeconfig: options.kubeconfig,
    context: options.context,
    capabilities: { realPods: true, networkPolicy: true, docker: true },
    collectors: [services.audit.collector, podLogsCollector(options.podLogDir)],
    decoys: services.decoys,
    manifest: options.manifest,
    clientCA: options.clientCA,
    ...(options.binDir ? { binDir: options.binDir } : {}),
    serveImdsCredentials: (creds, role) => services.serveImds(creds, role),
    release: () => services.stop(),
    async connectPods(run) {
      const files = writeRunPodFiles({
        podFilesDir: options.podFilesDir,
        runId: run.runId,
        gateway: options.gateway,
        relays: services.cloudRelays,
        ...(run.aws ? { aws: run.aws } : {}),
        ...(run.azure ? { azure: run.azure } : {}),
      })
      services.routeCloud({
        ...(run.aws ? { aws: run.aws.port } : {}),
        ...(run.azure ? { azure: run.azure.port } : {}),
      })
      return {
        template: files.template,
        async disconnect() {
          services.routeCloud(undefined)
          files.remove()
        },
      }
    },
  }
}

/** Runs kind/<script> with bash, forwarding its output line by line; PURPLE_LAB_FAILED on failure. */
async function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  log: (line: string) => void,
): Promise<void> {
  const path = join(packageRoot(), 'kind', script)
  const child = execa('bash', [path, ...args], { env, all: true, reject: false })
  const tail: string[] = []
  for await (const line of child.iterable({ from: 'all' })) {
    log(line)
    tail.push(line)
    if (tail.length > 20) tail.shift()
  }
  const result = await child
  if (result.exitCode !== 0) {
    throw new PurpleError(
      'PURPLE_LAB_FAILED',
      `kind/${script} exited with ${result.exitCode}:\n${tail.join('\n')}`,
      {
        hint: `rerun by hand: bash ${path} ${args.join(' ')}`,
      },
    )
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}
