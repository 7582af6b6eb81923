import type { SourceName, TelemetryEvent } from '../telemetry/event.js'
import type { ImdsRequest } from './decoys/imds.js'

/** A decoy's request records from some moment on (what `decoy-access` reads). */
export interface ServedRequests {
  events(): readonly ImdsRequest[]
}

/** A lab provider (src/lab/registry.ts). Replay is not one: a replayed run has no lab (RunOrigin). */
export type ProviderName = 'local' | 'kind' | 'existing'

/** Telemetry a collector could not deliver: records it could not read, or events it had to drop. */
export interface TelemetryLoss {
  source: SourceName
  kind: 'unreadable' | 'dropped'
  count: number
  /** Why, for the first such loss (never the record's content: it may hold secrets). */
  reason: string
}

/** A collector's error channel: every loss is counted and shown in the report. */
export type LossReporter = (loss: TelemetryLoss) => void

/** Streams live telemetry into the harness; one per source the lab offers. */
export interface TelemetryCollector {
  readonly source: SourceName
  /**
   * Begin delivering normalized events to `sink` (as they arrive, oldest first). What cannot be
   * delivered goes to `lost`, never to an exception thrown from a stream handler.
   */
  start(sink: (event: TelemetryEvent) => void, lost?: LossReporter): Promise<void>
  /** Stop delivering; resolves once the source is released. Safe to call twice. */
  stop(): Promise<void>
}

/** Local stand-ins for cloud services; every URL is loopback or inside a lab namespace. */
export interface Decoys {
  /** IMDS base URL as reached from the exec sandbox (always http://169.254.169.254 inside it). */
  imds?: { url: string; hostUrl: string; role: string }
  /** AWS API endpoint (moto server) for `aws --endpoint-url` / AWS_ENDPOINT_URL. */
  aws?: { endpoint: string; region: string }
  /**
   * AZURE_CONFIG_DIR prepared with a custom cloud whose endpoints are the decoy; `env` is what every `az`
   * call also needs (the decoy's CA bundle, a refusing proxy for non-loopback hosts, telemetry off).
   */
  azure?: { configDir: string; endpoint: string; env?: Record<string, string> }
}

export interface LabCapabilities {
  /** Pods are real containers (kind) rather than kwok-simulated ones whose exec runs in a sandbox. */
  realPods: boolean
  /** NetworkPolicy is enforced (kind with a CNI that enforces it). */
  networkPolicy: boolean
  /** A Docker Engine is available for docker-side steps. */
  docker: boolean
}

/** The container of a run's pods on a lab whose pods are real (kind). */
export interface PodTemplate {
  image: string
  command: string[]
  env: Record<string, string>
  volumes: Record<string, unknown>[]
  volumeMounts: Record<string, unknown>[]
}

/** What a run tells a real-pod lab about its decoys, so pods can reach them. */
export interface RunPodDecoys {
  runId: string
  /** moto's loopback port. */
  aws?: { port: number }
  /** The logged-in az profile, the decoy's CA bundle and its loopback port. */
  azure?: { configDir: string; caBundle: string; port: number }
}

/** A running lab. Everything needed to act on it and to observe it. */
export interface Lab {
  readonly provider: ProviderName
  readonly name: string
  readonly kubeconfig: string
  readonly context: string
  readonly capabilities: LabCapabilities
  readonly collectors: readonly TelemetryCollector[]
  readonly decoys: Decoys
  /** Environment for the docker CLI and dockerode (DOCKER_HOST pointing at the observed socket). */
  readonly dockerEnv?: Record<string, string>
  /** Directory holding the lab's binaries (kubectl matching the server), if the provider has one. */
  readonly binDir?: string
  /**
   * The cluster CA (certificate and key files, owner-only), where the lab has it: steps acting as a user
   * authenticate with a client certificate of their own instead of impersonation.
   */
  readonly clientCA?: { readonly cert: string; readonly key: string }
  /** Facts for the report's environment manifest (versions, audit policy hash, ...). */
  readonly manifest: Record<string, string>
  /**
   * Makes files visible to commands exec'd in a pod, where pods are simulated (kwok): e.g. the pod's
   * service-account token at /var/run/secrets/kubernetes.io/serviceaccount/token. Real pods don't need it.
   */
  stagePodFiles?(pod: { namespace: string; name: string }, files: Record<string, string>): Promise<void>
  /**
   * Where the lab's own metadata decoy must serve the run's role credentials (a lab whose IMDS lives as
   * long as the lab, e.g. kind's on the Docker network gateway). Absent: the run serves IMDS at `hostUrl`.
   * Returns the requests that decoy serves from now on (the run's `decoy-access` telemetry).
   */
  serveImdsCredentials?(
    creds: { accessKeyId: string; secretAccessKey: string; token: string },
    role: string,
  ): ServedRequests
  /** Releases host-side services this process started for the lab (the lab itself stays up). */
  release?(): Promise<void>
  /**
   * Real pods (kind): makes the run's decoys reachable from its pods and returns their container;
   * `disconnect` undoes it. Absent: pods are simulated and use the lab's default container.
   */
  connectPods?(run: RunPodDecoys): Promise<{ template: PodTemplate; disconnect(): Promise<void> }>
  /** Set by the run (compose.ts) from connectPods: the container of this run's pods. */
  readonly podTemplate?: PodTemplate
  /**
   * Where commands exec'd in simulated pods expect the run's cloud decoys (local lab): the loopback ports
   * bridged into the exec sandbox, on which the run must serve moto (`awsPort`) and the Azure decoy
   * (`azurePort`), and the sandbox user's AZURE_CONFIG_DIR and CA bundle (fixed in the exec environment)
   * that the run fills with a logged-in `az` profile owned by `owner`.
   */
  readonly sandboxDecoys?: {
    readonly awsPort: number
    readonly azurePort: number
    readonly azureConfigDir: string
    readonly caBundle: string
    readonly owner: { readonly uid: number; readonly gid: number }
  }
}

export interface LabProvider {
  readonly name: ProviderName
  /** Cheap probe used by `--env auto`; never throws. */
  available(): Promise<{ ok: boolean; reason?: string }>
  /** Bring the lab up (idempotent: reuses a running lab of the same name). */
  up(options: { name: string; log: (line: string) => void }): Promise<Lab>
  /** Tear down what `up` created; must work after a partial `up`. */
  down(options: { name: string; log: (line: string) => void }): Promise<void>
  status(options: { name: string }): Promise<{ running: boolean; detail: string }>
}

export const RUN_LABEL = 'purplekind.io/run'
export const MANAGED_LABEL = 'purplekind.io/managed'
