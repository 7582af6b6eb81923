import { join } from 'node:path'
import type { Scenario } from '../scenario/load.js'
import { decoyAccessCollector } from '../telemetry/sources/decoy-access/index.js'
import { azLogin, copyAzureProfile, removeAzureProfile, removeAzureProfileSync } from './decoys/azure.js'
import type { Canaries } from './decoys/canaries.js'
import { victimEnv } from './decoys/canaries.js'
import { type ImdsDecoy, imdsCredentials, startImds } from './decoys/imds.js'
import { type RunDecoys, startDecoys } from './decoys/index.js'
import { containerLogsCollector, dockerApiCollector, dockerEventsCollector } from './docker/collectors.js'
import { ensureDockerd } from './docker/engine.js'
import {
  createLabContainer,
  ensureImages,
  QUIET_IMAGE,
  removeRunContainers,
  TOOLBOX_IMAGE,
  VICTIM_IMAGE,
} from './docker/images.js'
import { proxySocketPath, startDockerApiProxy } from './docker/proxy.js'
import { openRunJournal } from './journal.js'
import { labHome } from './local/index.js'
import type { Lab, PodTemplate, ServedRequests, TelemetryCollector } from './provider.js'

/** Docker-side setup used by the runner. */
export interface DockerSetup {
  createContainer(spec: {
    name: string
    image: 'victim' | 'toolbox'
    leaks: string[]
    runId: string
  }): Promise<void>
  removeRunContainers(runId: string): Promise<void>
}

export interface RunServices {
  lab: Lab
  canaries: Canaries
  docker?: DockerSetup
  decoys: RunDecoys
  /** The IMDS serving the lab's metadata address (lab.decoys.imds.hostUrl), when the lab has one. */
  labImds?: ImdsDecoy
  stop(): Promise<void>
}

const LEAK_ENV: Record<string, string[]> = {
  aws: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  azure: ['AZURE_CLIENT_SECRET'],
  'db-password': ['DB_PASSWORD'],
  token: [],
}

/**
 * The node role's credentials as IMDS serves them. The AWS decoy (moto) resolves the caller of
 * `list-access-keys` from the access key id, and only knows keys it issued itself, so the role hands out
 * the moto-issued key (with a session token) — otherwise the stolen credentials could not be used.
 */
function roleCredentials(c: Canaries): ReturnType<typeof imdsCredentials> {
  return { ...imdsCredentials(c), accessKeyId: c.awsAccessKeyId, secretAccessKey: c.awsSecretAccessKey }
}

/**
 * Adds what a run needs on top of the Kubernetes lab: the run's decoys (IMDS behind the lab's
 * metadata address, AWS and Azure on loopback) with fresh canaries, and — when a scenario uses
 * containers — the Docker Engine with its three telemetry sources behind a logging API proxy.
 */
export async function attachRunServices(
  lab: Lab,
  scenarios: readonly Scenario[],
  runId: string,
  log: (l: string) => void,
): Promise<RunServices> {
  // What outlives a SIGKILL of this process is journalled before it exists; `purplekind sweep` reads it.
  const journal = openRunJournal(labHome(), runId)
  // The run's directory (actor kubeconfigs with tokens, the intake token) is the runner's; swept too.
  journal.record({ kind: 'path', path: join(labHome(), 'runs', runId) })
  // Released last: host-side services the lab provider started in this process (kind's relay, IMDS).
  const stops: (() => Promise<unknown>)[] = [async () => lab.release?.()]
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined)
    journal.close()
  }
  try {
    const labImds = lab.decoys.imds
    const sandbox = lab.sandboxDecoys
    const decoys = await startDecoys({
      runId,
      log,
      journal,
      imdsExternal: Boolean(labImds),
      ...(sandbox ? { awsPort: sandbox.awsPort, azurePort: sandbox.azurePort } : {}),
    })
    stops.push(() => decoys.stop())
    if (sandbox && decoys.azure) {
      // `az` exec'd in a simulated pod finds itself logged in as the canary principal (its ~/.azure).
      await azLogin(decoys.azure, decoys.canaries)
      const target = { ...sandbox, configDir: sandbox.azureConfigDir }
      journal.record({ kind: 'path', path: target.configDir, owner: target.owner })
      // Also on a forced quit (process.exit): the profile holds the canary client secret.
      const onExit = () => removeAzureProfileSync(target)
      process.on('exit', onExit)
      stops.push(async () => {
        process.off('exit', onExit)
        await removeAzureProfile(target)
      })
      await copyAzureProfile(decoys.azure, target)
      log(`azure decoy: logged-in az profile for the exec sandbox in ${sandbox.azureConfigDir}`)
    }
    let imdsDecoys = decoys.decoys.imds
    let servedImds: ImdsDecoy | undefined
    let labServed: ServedRequests | undefined
    if (labImds && lab.serveImdsCredentials) {
      // The lab's own IMDS (kind: on the Docker network gateway) takes the run's role credentials.
      labServed = lab.serveImdsCredentials(roleCredentials(decoys.canaries), decoys.canaries.awsRoleName)
      imdsDecoys = { ...labImds, role: decoys.canaries.awsRoleName }
    } else if (labImds) {
      // The lab routes 169.254.169.254 (inside its sandbox) to hostUrl: serve the run's canaries there.
      const port = Number(new URL(labImds.hostUrl).port)
      const imds = await startImds({
        host: '127.0.0.1',
        port,
        canary: roleCredentials(decoys.canaries),
        role: decoys.canaries.awsRoleName,
      })
      servedImds = imds
      stops.push(() => imds.stop())
      imdsDecoys = { ...labImds, role: imds.role }
    }
    let podTemplate: PodTemplate | undefined
    if (lab.connectPods) {
      // Real pods (kind): they reach this run's decoys through the lab's relays, `az` logged in.
      if (decoys.azure) await azLogin(decoys.azure, decoys.canaries)
      const port = (url?: string) => (url ? Number(new URL(url).port) : 0)
      const pods = await lab.connectPods({
        runId,
        ...(decoys.decoys.aws ? { aws: { port: port(decoys.decoys.aws.endpoint) } } : {}),
        ...(decoys.azure
          ? {
              azure: {
                configDir: decoys.azure.configDir,
                caBundle: decoys.azure.env.REQUESTS_CA_BUNDLE as string,
                port: port(decoys.azure.endpoint),
              },
            }
          : {}),
      })
      stops.push(() => pods.disconnect())
      podTemplate = pods.template
    }
    // Whichever IMDS serves this run's role (kind's gateway IMDS, the one behind the local lab's
    // address, or the run's own) feeds decoy-access: a credential fetch is evidence of the step.
    const collectors: TelemetryCollector[] = [
      ...lab.collectors,
      decoyAccess(decoys, labServed ?? servedImds ?? decoys.imds),
    ]
    let dockerEnv = lab.dockerEnv
    let docker: DockerSetup | undefined
    const needsDocker = scenarios.some(
      (s) => s.setup.containers.length || s.steps.some((st) => st.run[0] === 'docker'),
    )
    if (needsDocker) {
      const engine = await ensureDockerd({ log })
      await ensureImages(engine.docker, { log })
      journal.record({ kind: 'path', path: proxySocketPath(`${lab.name}-${runId}`) })
      const proxy = await startDockerApiProxy({ lab: `${lab.name}-${runId}`, log })
      stops.push(() => proxy.stop())
      dockerEnv = proxy.env
      collectors.push(
        dockerEventsCollector(engine.docker),
        dockerApiCollector(proxy, { docker: engine.docker }),
        containerLogsCollector(engine.docker, { runId }),
      )
      const all = victimEnv(decoys.canaries)
      docker = {
        async createContainer(spec) {
          const keys = spec.leaks.flatMap((l) => LEAK_ENV[l] ?? [])
          const env = Object.fromEntries(keys.filter((k) => all[k]).map((k) => [k, all[k] as string]))
          const image = spec.image === 'toolbox' ? TOOLBOX_IMAGE : keys.length ? VICTIM_IMAGE : QUIET_IMAGE
          await createLabContainer(engine.docker, { name: spec.name, image, env, runId: spec.runId })
        },
        async removeRunContainers(id) {
          await removeRunContainers(engine.docker, id)
        },
      }
      lab = {
        ...lab,
        manifest: { ...lab.manifest, docker: engine.version, dockerNetworking: engine.networking },
      }
    }
    const composed: Lab = {
      ...lab,
      collectors,
      capabilities: { ...lab.capabilities, docker: Boolean(docker) || lab.capabilities.docker },
      decoys: { ...decoys.decoys, ...(imdsDecoys ? { imds: imdsDecoys } : {}) },
      ...(dockerEnv ? { dockerEnv } : {}),
      ...(lab.stagePodFiles ? { stagePodFiles: lab.stagePodFiles.bind(lab) } : {}),
      ...(podTemplate ? { podTemplate } : {}),
    }
    return {
      lab: composed,
      canaries: decoys.canaries,
      ...(docker ? { docker } : {}),
      decoys,
      ...(servedImds ? { labImds: servedImds } : {}),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** The run's decoys' request records as telemetry, with the run's planted credential ids. */
function decoyAccess(d: RunDecoys, imds: ServedRequests | undefined): TelemetryCollector {
  const c = d.canaries
  return decoyAccessCollector({
    ...(imds ? { imds } : {}),
    ...(d.azure ? { azure: d.azure } : {}),
    ...(d.aws ? { awsRecording: d.aws.recordingFile } : {}),
    canaryIds: [c.awsAccessKeyId, c.awsSessionAccessKeyId, c.azureClientId],
  })
}
