// Renders the kind Cluster config and the apiserver's audit-webhook kubeconfig. Pure functions: the
// provider writes their output into the lab directory before `kind create cluster` runs.
import { isAbsolute } from 'node:path'
import { stringify } from 'yaml'
import { PurpleError } from '../../errors.js'

/** Where the host files appear inside the control-plane node (and, via extraVolumes, the apiserver pod). */
export const NODE_PATHS = {
  configDir: '/etc/kubernetes/purplekind',
  auditPolicy: '/etc/kubernetes/purplekind/audit-policy.yaml',
  webhookConfig: '/etc/kubernetes/purplekind/audit-webhook.kubeconfig',
  logDir: '/var/log/kubernetes/purplekind',
  auditLog: '/var/log/kubernetes/purplekind/audit.log',
  /** The kubelet's CRI log files, bind-mounted from the host so the harness tails them without docker exec. */
  podLogs: '/var/log/pods',
  /** Per-run files pods mount read-only (the decoys' CA and the logged-in az profile). */
  podFiles: '/etc/purplekind/pod-files',
} as const

/**
 * `kindnet` keeps kind's default CNI: kindnetd enforces NetworkPolicy since kind v0.24.0 (kind PR #3612,
 * issue #842). `none` disables it (networking.disableDefaultCNI) so up.sh installs the manifest named by
 * PURPLEKIND_CNI_MANIFEST (e.g. Calico) instead — for hosts where kindnet's policy support misbehaves.
 */
export type KindCni = 'kindnet' | 'none'

export interface KindConfigOptions {
  name: string
  /** Host path of the audit policy (lab/audit-policy.yaml). */
  auditPolicyPath: string
  /** Host path of the rendered webhook kubeconfig. */
  webhookConfigPath: string
  /** Host directory the apiserver writes its JSON audit log into. */
  logDir: string
  /** Node image (`kindest/node:v…@sha256:…`); kind's default when absent. */
  image?: string
  cni?: KindCni
  /** Host directory the node's /var/log/pods is mounted from (the container-logs source). */
  podLogDir?: string
  /** Host directory mounted read-only at NODE_PATHS.podFiles. */
  podFilesDir?: string
  /**
   * purplekind's own node image (kind/node-image/build.sh): its etcd and CoreDNS are our builds under
   * purplekind.local/ tags, its bridge CNI is baked in and kube-router enforces NetworkPolicy.
   */
  purplekindImage?: { etcdTag: string; corednsTag: string }
  /** Workarounds for the host, each only when a check found the need (see host.ts). */
  host?: HostPatches
}

export interface HostPatches {
  /** cgroup v1 host: kubelet ≥ 1.35 refuses v1 unless told, and kubeadm's SystemVerification fails. */
  cgroupV1?: boolean
  /** CAP_SYS_RESOURCE missing: runc cannot lower oom_score_adj, so containerd must not ask it to. */
  restrictOomScoreAdj?: boolean
}

/** Renders a kind.x-k8s.io/v1alpha4 Cluster with apiserver auditing to a log file and a webhook. */
export function renderKindConfig(options: KindConfigOptions): string {
  for (const field of [
    'auditPolicyPath',
    'webhookConfigPath',
    'logDir',
    'podLogDir',
    'podFilesDir',
  ] as const) {
    // kind resolves relative hostPaths against its own cwd, which is not ours.
    const value = options[field]
    if (value !== undefined && !isAbsolute(value)) {
      throw new PurpleError(
        'PURPLE_USAGE',
        `kind config: ${field} must be an absolute path, got '${options[field]}'`,
      )
    }
  }
  const controlPlane: Record<string, unknown> = {
    role: 'control-plane',
    ...(options.image ? { image: options.image } : {}),
    extraMounts: [
      { hostPath: options.auditPolicyPath, containerPath: NODE_PATHS.auditPolicy, readOnly: true },
      { hostPath: options.webhookConfigPath, containerPath: NODE_PATHS.webhookConfig, readOnly: true },
      // Tail the log from the host: reading it with `docker exec` would pollute the Docker telemetry.
      { hostPath: options.logDir, containerPath: NODE_PATHS.logDir },
      ...(options.podLogDir ? [{ hostPath: options.podLogDir, containerPath: NODE_PATHS.podLogs }] : []),
      ...(options.podFilesDir
        ? [{ hostPath: options.podFilesDir, containerPath: NODE_PATHS.podFiles, readOnly: true }]
        : []),
    ],
    kubeadmConfigPatches: [stringify(clusterPatch(options.purplekindImage))],
  }
  const host = options.host ?? {}
  const clusterPatches = [
    ...(host.cgroupV1
      ? [
          stringify({
            kind: 'InitConfiguration',
            nodeRegistration: { ignorePreflightErrors: ['SystemVerification'] },
          }),
          stringify({ kind: 'KubeletConfiguration', failCgroupV1: false }),
        ]
      : []),
  ]
  const containerdPatches = host.restrictOomScoreAdj
    ? ['[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n']
    : []
  const cluster = {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: options.name,
    networking: {
      // The kubeconfig server stays loopback, which the context guard requires.
      apiServerAddress: '127.0.0.1',
      // Our node image carries its own CNI (a bridge) and kube-proxy image with nft.
      ...(options.cni === 'none' || options.purplekindImage ? { disableDefaultCNI: true } : {}),
      ...(options.purplekindImage ? { kubeProxyMode: 'nftables' } : {}),
    },
    ...(containerdPatches.length ? { containerdConfigPatches: containerdPatches } : {}),
    ...(clusterPatches.length ? { kubeadmConfigPatches: clusterPatches } : {}),
    nodes: [controlPlane],
  }
  return stringify(cluster)
}

/**
 * Unversioned ClusterConfiguration patch in map form: kind translates it to kubeadm v1beta4's list-form
 * extraArgs for 1.36+ node images (a patch pinned to v1beta3 would silently stop applying there).
 */
function clusterPatch(image?: { etcdTag: string; corednsTag: string }): Record<string, unknown> {
  return {
    kind: 'ClusterConfiguration',
    // Honest tags: our etcd and CoreDNS builds under their own versions, not the ones kubeadm pins.
    ...(image
      ? {
          etcd: { local: { imageRepository: 'purplekind.local', imageTag: image.etcdTag } },
          dns: { imageRepository: 'purplekind.local', imageTag: image.corednsTag },
        }
      : {}),
    apiServer: {
      extraArgs: {
        'audit-policy-file': NODE_PATHS.auditPolicy,
        'audit-log-path': NODE_PATHS.auditLog,
        'audit-log-format': 'json',
        'audit-webhook-config-file': NODE_PATHS.webhookConfig,
        // Batches of at most 1 s (the default waits 30 s). Not `blocking`: the lab outlives the harness
        // process that receives, and a blocking webhook with no receiver stalls every audited request.
        'audit-webhook-mode': 'batch',
        'audit-webhook-batch-max-wait': '1s',
        'audit-webhook-initial-backoff': '1s',
      },
      extraVolumes: [
        {
          name: 'purplekind-config',
          hostPath: NODE_PATHS.configDir,
          mountPath: NODE_PATHS.configDir,
          readOnly: true,
          pathType: 'Directory',
        },
        {
          name: 'purplekind-audit-log',
          hostPath: NODE_PATHS.logDir,
          mountPath: NODE_PATHS.logDir,
          readOnly: false,
          pathType: 'DirectoryOrCreate',
        },
      ],
    },
  }
}

export interface WebhookKubeconfigOptions {
  /** Receiver URL as the apiserver reaches it: https://<docker network gateway>:<port>/<path>. */
  server: string
  /** PEM of the lab CA that signed the receiver's serving certificate. */
  caPem: string
  /** Bearer token the receiver requires. */
  token: string
}

/** The kubeconfig given to --audit-webhook-config-file (CA embedded, so only one file is mounted). */
export function renderWebhookKubeconfig(options: WebhookKubeconfigOptions): string {
  const url = parseUrl(options.server)
  if (url.protocol !== 'https:') {
    throw new PurpleError('PURPLE_USAGE', `audit webhook server must be https, got '${options.server}'`)
  }
  if (!options.caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new PurpleError('PURPLE_USAGE', 'audit webhook caPem is not a PEM certificate')
  }
  if (!options.token) throw new PurpleError('PURPLE_USAGE', 'audit webhook token is empty')
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'purplekind-audit',
        cluster: {
          server: options.server,
          'certificate-authority-data': Buffer.from(options.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: 'kube-apiserver', user: { token: options.token } }],
    contexts: [{ name: 'default', context: { cluster: 'purplekind-audit', user: 'kube-apiserver' } }],
    'current-context': 'default',
  })
}

function parseUrl(text: string): URL {
  try {
    return new URL(text)
  } catch {
    throw new PurpleError('PURPLE_USAGE', `audit webhook server '${text}' is not a URL`)
  }
}
