// The kind lab: real pods in a kind cluster, apiserver audit to a webhook receiver on the host, pod IMDS
// traffic DNATed to the decoy. kind itself is driven through kind/up.sh and kind/down.sh.
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Docker from 'dockerode'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'
import { cacheRoot, packageRoot } from '../assets.js'
import { ensureImages } from '../docker/images.js'
import type { Lab, LabProvider } from '../provider.js'
import { assertSafeContext } from '../safety.js'
import { type KindCni, renderKindConfig, renderWebhookKubeconfig } from './config.js'
import { imdsRedirectScript } from './imds.js'
import { ensureLabNetwork, removeLabNetwork } from './network.js'
import { type KindLabServices, type StartKindServices, startKindServices } from './services.js'

/** Node image the nightly job pulls (kind v0.33.0's build for Kubernetes 1.36, matching our kubectl). */
export const DEFAULT_NODE_IMAGE =
  'kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed'

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

/** Availability probes; replaceable in tests (nothing else is). */
export interface KindProbes {
  /** `kind version` output, or undefined when kind is not on PATH. */
  kindVersion(): Promise<string | undefined>
  /** Docker Engine version, or undefined when no engine answers. */
  dockerVersion(): Promise<string | undefined>
  /** Local `kindest/node` image references. */
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
      const cluster = kindClusterName(name)
      const availability = await checkAvailable(probes)
      if (!availability.ok)
        throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', `kind lab: ${availability.reason}`)
      const dir = stateDir(cluster)
      mkdirSync(join(dir, 'audit'), { recursive: true })
      const network = await ensureLabNetwork(docker, cluster)
      log(`kind: lab network ${network.name} ${network.subnet}, services on ${network.gateway}`)
      await ensureImages(docker, { log })
      const services = await startServices({ host: network.gateway, stateDir: dir, log })
      running.set(cluster, services)
      try {
        const image = options.image ?? pickNodeImage(await probes.nodeImages())
        log(`kind: node image ${image}`)
        const files = kindLabFiles({ cluster, dir, services, image, cni: options.cni })
        writeLabFiles(files)
        await runScript(
          'up.sh',
          [cluster, files.kindConfig.path, files.imdsScript.path],
          {
            KUBECONFIG: files.kubeconfig,
            PURPLEKIND_KIND_NETWORK: network.name,
          },
          log,
        )
        const context = `kind-${cluster}`
        assertSafeContext({ kubeconfig: files.kubeconfig, context, labNetworks: [network.subnet] })
        return labFor({
          cluster,
          context,
          kubeconfig: files.kubeconfig,
          services,
          manifest: {
            'kind.version': (await probes.kindVersion()) ?? 'unknown',
            'kind.nodeImage': image,
            'kind.cni': options.cni ?? 'kindnet',
            'kind.network': `${network.name} ${network.subnet}`,
            'audit.policySha256': sha256(readFileSync(files.auditPolicy)),
            'audit.backend': 'webhook (blocking) + json log',
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
      await runScript('down.sh', [cluster], { KUBECONFIG: join(stateDir(cluster), 'kubeconfig') }, log)
      if (await removeLabNetwork(docker, cluster)) log(`kind: removed docker network ${cluster}`)
    },

    async status({ name }) {
      const cluster = kindClusterName(name)
      const result = await execa('kind', ['get', 'clusters'], { reject: false })
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
    return { ok: false, reason: 'kind not on PATH (go install sigs.k8s.io/kind@v0.33.0)' }
  }
  if (!(await probes.dockerVersion())) {
    return { ok: false, reason: 'no Docker Engine answers on /var/run/docker.sock' }
  }
  if ((await probes.nodeImages()).length === 0) {
    return {
      ok: false,
      reason: `no kindest/node image present locally, and purplekind never pulls one (where a registry is reachable: docker pull ${DEFAULT_NODE_IMAGE})`,
    }
  }
  return { ok: true }
}

/**
 * A node image that is present locally (so kind never pulls): the Kubernetes minor of DEFAULT_NODE_IMAGE
 * if there is one, else the first found.
 */
export function pickNodeImage(local: readonly string[]): string {
  const minor = DEFAULT_NODE_IMAGE.match(/^kindest\/node:(v\d+\.\d+)\./)?.[1] ?? ''
  const image = local.find((ref) => ref.startsWith(`kindest/node:${minor}.`)) ?? local[0]
  if (!image) throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', 'no kindest/node image present locally')
  return image
}

function realProbes(docker: Docker): KindProbes {
  return {
    async kindVersion() {
      const r = await execa('kind', ['version'], { reject: false })
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
      const images = await docker.listImages({ filters: { reference: ['kindest/node'] } })
      const refs = (list: string[] | undefined) => (list ?? []).filter((r) => !r.startsWith('<none>'))
      return images.flatMap((i) => (refs(i.RepoTags).length ? refs(i.RepoTags) : refs(i.RepoDigests)))
    },
  }
}

export interface KindLabFiles {
  kindConfig: { path: string; content: string }
  webhookConfig: { path: string; content: string; mode: number }
  imdsScript: { path: string; content: string }
  auditPolicy: string
  kubeconfig: string
  logDir: string
}

/** Everything written into the lab directory before `kind create cluster` (pure; unit-tested). */
export function kindLabFiles(options: {
  cluster: string
  dir: string
  services: Pick<KindLabServices, 'audit' | 'imds'>
  image?: string
  cni?: KindCni
  auditPolicyPath?: string
}): KindLabFiles {
  const auditPolicy = options.auditPolicyPath ?? join(packageRoot(), 'kind', 'audit-policy.yaml')
  const logDir = join(options.dir, 'audit')
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
        ...(options.image ? { image: options.image } : {}),
        ...(options.cni ? { cni: options.cni } : {}),
      }),
    },
    // Holds the receiver's bearer token: owner-only.
    webhookConfig: {
      path: webhookPath,
      content: renderWebhookKubeconfig({ server: url, caPem, token }),
      mode: 0o600,
    },
    imdsScript: {
      path: join(options.dir, 'imds-redirect.sh'),
      content: imdsRedirectScript(options.services.imds),
    },
    auditPolicy,
    kubeconfig: join(options.dir, 'kubeconfig'),
    logDir,
  }
}

function writeLabFiles(files: KindLabFiles): void {
  if (!existsSync(files.auditPolicy)) {
    throw new PurpleError('PURPLE_ASSETS_MISSING', `audit policy ${files.auditPolicy} does not exist`)
  }
  mkdirSync(files.logDir, { recursive: true })
  writeFileSync(files.kindConfig.path, files.kindConfig.content)
  writeFileSync(files.webhookConfig.path, files.webhookConfig.content, { mode: files.webhookConfig.mode })
  chmodSync(files.webhookConfig.path, files.webhookConfig.mode)
  writeFileSync(files.imdsScript.path, files.imdsScript.content)
}

function labFor(options: {
  cluster: string
  context: string
  kubeconfig: string
  services: KindLabServices
  manifest: Record<string, string>
}): Lab {
  return {
    provider: 'kind',
    name: options.cluster,
    kubeconfig: options.kubeconfig,
    context: options.context,
    capabilities: { realPods: true, networkPolicy: true, docker: true },
    collectors: [options.services.audit.collector],
    decoys: options.services.decoys,
    manifest: options.manifest,
    serveImdsCredentials: (creds, role) => options.services.serveImds(creds, role),
    release: () => options.services.stop(),
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
