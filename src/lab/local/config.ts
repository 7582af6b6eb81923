// Pure renderers for the local lab: component flags, kubeconfigs and kwok's configuration. Kept free
// of I/O so the exact flags can be unit-tested and read in one place.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { AUDIT_WEBHOOK_PATH } from '../audit-receiver.js'
import { AWS_REGION } from '../decoys/aws.js'
import { AZ_QUIET_ENV } from '../decoys/azure.js'

export interface LabPorts {
  readonly etcdClient: number
  readonly etcdPeer: number
  readonly apiserver: number
  /** kwok's kubelet-like server: inside the sandbox namespace, and bridged to the same host port. */
  readonly kwok: number
  readonly receiver: number
  /** Host port the decoy IMDS listens on; 169.254.169.254:80 in the sandbox forwards there. */
  readonly imds: number
  /**
   * Host ports the run serves moto and the Azure decoy on; the same port on the sandbox's 127.0.0.1
   * forwards there. Absent in labs started before these bridges existed.
   */
  readonly aws?: number
  readonly azure?: number
}

/** PATH of the lab's daemons; exec'd commands get the cloud CLIs' venv in front of it. */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * Files in the exec workDir (the sandbox user's HOME) that each run fills: `az`'s config dir holding the
 * decoy cloud and a service-principal login (the sandbox user's ~/.azure, as on a compromised VM), and
 * the decoy's CA bundle. Fixed paths, because the exec environment is fixed when kwok starts.
 */
export function sandboxCloudFiles(workDir: string): { azureConfigDir: string; caBundle: string } {
  const azureConfigDir = join(workDir, '.azure')
  return { azureConfigDir, caBundle: join(azureConfigDir, 'purplekind-decoy-ca.pem') }
}

/**
 * The environment of every command exec'd in a simulated pod. `aws` finds no credentials in it or in
 * config files, so it asks the (decoy) IMDS at 169.254.169.254 as it would on EC2; its API endpoint is
 * moto, bridged to the sandbox's 127.0.0.1:<aws port>. `az` uses the logged-in profile the run writes
 * to sandboxCloudFiles. Nothing here is a secret.
 */
export function sandboxExecEnv(opts: {
  workDir: string
  venvBin: string
  awsPort: number
}): Record<string, string> {
  const files = sandboxCloudFiles(opts.workDir)
  return {
    HOME: opts.workDir,
    PATH: `${opts.venvBin}:${SAFE_PATH}`,
    LANG: 'C.UTF-8',
    PURPLEKIND_SANDBOX: '1',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${opts.awsPort}`,
    AWS_DEFAULT_REGION: AWS_REGION,
    AWS_REGION,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    // The IMDS answers through two forwarders on a busy machine: botocore's 1 s / 1 attempt is tight.
    AWS_METADATA_SERVICE_TIMEOUT: '5',
    AWS_METADATA_SERVICE_NUM_ATTEMPTS: '2',
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
    AZURE_CONFIG_DIR: files.azureConfigDir,
    REQUESTS_CA_BUNDLE: files.caBundle,
    ...AZ_QUIET_ENV,
  }
}

/** Filesystem layout of one lab directory. */
export function labPaths(dir: string) {
  const pki = join(dir, 'pki')
  return {
    dir,
    pki,
    cert: (name: string) => join(pki, `${name}.crt`),
    key: (name: string) => join(pki, `${name}.key`),
    etcdData: join(dir, 'etcd'),
    logs: join(dir, 'logs'),
    log: (name: string) => join(dir, 'logs', `${name}.log`),
    auditLog: join(dir, 'audit', 'audit.log'),
    auditPolicy: join(dir, 'audit-policy.yaml'),
    webhookConfig: join(dir, 'audit-webhook.kubeconfig'),
    webhookToken: join(dir, 'audit-webhook.token'),
    kubeconfig: join(dir, 'kubeconfig'),
    componentKubeconfig: (name: string) => join(dir, `${name}.kubeconfig`),
    kwokConfig: join(dir, 'kwok.yaml'),
    podLog: join(dir, 'pod.log'),
    /** Unix sockets bridging the sandbox namespace; the directory is root-only (0700). */
    sockets: join(dir, 'sock'),
    socket: (name: string) => join(dir, 'sock', `${name}.sock`),
    state: join(dir, 'state.json'),
  }
}
export type LabPaths = ReturnType<typeof labPaths>

export function contextName(lab: string): string {
  return `purplekind-${lab}`
}

export function etcdArgs(p: LabPaths, ports: LabPorts): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`
  const peer = `http://127.0.0.1:${ports.etcdPeer}`
  return [
    '--name=purplekind',
    `--data-dir=${p.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=purplekind=${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]
}

export const AUDIT_WEBHOOK_MODE = 'batch'

export function apiserverArgs(p: LabPaths, ports: LabPorts): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${p.cert('apiserver')}`,
    `--tls-private-key-file=${p.key('apiserver')}`,
    `--client-ca-file=${p.cert('ca')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(p.pki, 'sa.pub')}`,
    `--service-account-signing-key-file=${p.key('sa')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--authorization-mode=Node,RBAC',
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    `--audit-policy-file=${p.auditPolicy}`,
    `--audit-log-path=${p.auditLog}`,
    '--audit-log-format=json',
    `--audit-webhook-config-file=${p.webhookConfig}`,
    // Not `blocking`: with no receiver listening (the lab outlives harness runs) every audited request
    // then stalls ~9 s on webhook retries (measured). Batches flushed every second keep delivery ≤ ~1 s.
    `--audit-webhook-mode=${AUDIT_WEBHOOK_MODE}`,
    '--audit-webhook-batch-max-wait=1s',
    '--audit-webhook-initial-backoff=1s',
  ]
}

/** Only what the lab needs: default ServiceAccounts and tokens, namespace deletion, GC, kube-root-ca.crt. */
export const KCM_CONTROLLERS = [
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'root-ca-certificate-publisher-controller',
] as const

export function controllerManagerArgs(p: LabPaths): string[] {
  const kubeconfig = p.componentKubeconfig('kcm')
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--secure-port=0',
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--controllers=${KCM_CONTROLLERS.join(',')}`,
    `--service-account-private-key-file=${p.key('sa')}`,
    `--root-ca-file=${p.cert('ca')}`,
  ]
}

export function kwokArgs(p: LabPaths, ports: LabPorts): string[] {
  return [
    `--kubeconfig=${p.componentKubeconfig('kwok')}`,
    `--config=${p.kwokConfig}`,
    '--manage-all-nodes=true',
    '--node-ip=127.0.0.1',
    `--node-port=${ports.kwok}`,
    `--server-address=127.0.0.1:${ports.kwok}`,
    `--tls-cert-file=${p.cert('kwok')}`,
    `--tls-private-key-file=${p.key('kwok')}`,
    '--node-lease-duration-seconds=40',
  ]
}

export interface KubeconfigInput {
  readonly name: string
  readonly server: string
  readonly caPem: string
  readonly user: { certPem: string; keyPem: string } | { token: string }
}

/** A single-context kubeconfig; cluster, user and context all carry `name`. Credentials are embedded. */
export function kubeconfigYaml(k: KubeconfigInput): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64')
  const user =
    'token' in k.user
      ? { token: k.user.token }
      : { 'client-certificate-data': b64(k.user.certPem), 'client-key-data': b64(k.user.keyPem) }
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: k.name, cluster: { server: k.server, 'certificate-authority-data': b64(k.caPem) } }],
    users: [{ name: k.name, user }],
    contexts: [{ name: k.name, context: { cluster: k.name, user: k.name } }],
    'current-context': k.name,
  })
}

/** The apiserver's audit webhook kubeconfig: HTTPS to the receiver on loopback with a bearer token. */
export function webhookKubeconfigYaml(receiverPort: number, caPem: string, token: string): string {
  return kubeconfigYaml({
    name: 'purplekind-audit',
    server: `https://127.0.0.1:${receiverPort}${AUDIT_WEBHOOK_PATH}`,
    caPem,
    user: { token },
  })
}

/** kwok stage manifests (relative to its kustomize/stage directory) that make nodes and pods live. */
export const KWOK_STAGES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
] as const

export interface SandboxUser {
  readonly uid: number
  readonly gid: number
}

/**
 * kwok's --config: the stages, one ClusterExec running every exec as `user` in a throw-away
 * `workDir` (inside the sandbox namespace kwok itself runs in) with `env` added to kwok's own
 * environment, and ClusterLogs serving `logsFile`.
 */
export function kwokConfigYaml(
  stagesDir: string,
  workDir: string,
  user: SandboxUser,
  logsFile: string,
  env: Record<string, string> = { HOME: workDir, PURPLEKIND_SANDBOX: '1' },
): string {
  const stages = KWOK_STAGES.map((s) => readFileSync(join(stagesDir, s), 'utf8').trim())
  const exec = {
    kind: 'ClusterExec',
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    metadata: { name: 'purplekind-sandbox' },
    spec: {
      execs: [
        {
          local: {
            workDir,
            envs: Object.entries(env).map(([name, value]) => ({ name, value })),
            securityContext: { runAsUser: user.uid, runAsGroup: user.gid },
          },
        },
      ],
    },
  }
  const logs = {
    kind: 'ClusterLogs',
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    metadata: { name: 'purplekind-logs' },
    spec: { logs: [{ logsFile, follow: false }] },
  }
  return [...stages, stringify(exec).trim(), stringify(logs).trim()].join('\n---\n') + '\n'
}

/** The one simulated node kwok manages. */
export function nodeManifest(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'purplekind.io/managed': 'true' },
    },
    spec: {},
  }
}
