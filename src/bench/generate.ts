// Deterministic benchmark data: a realistic Kubernetes audit log (JSONL) and 100 Sigma rules shaped like
// real Kubernetes audit detections. Everything derives from one seed through our own PRNG, so two runs
// with the same seed write byte-identical files (and a finished data set is reused).
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { K8S_RULES, k8sRuleYaml } from './k8s-rules.js'

/** Bumped whenever the generated content changes, so stale cached data sets are rebuilt. */
const GENERATOR_VERSION = 2

export interface BenchData {
  dir: string
  events: string
  rulesDir: string
  /** The Kubernetes-shaped rule set (k8s-rules.ts). */
  k8sRulesDir: string
  lines: number
}

// mulberry32: tiny, fast, good enough for synthetic data, and stable across Node versions.
export function createRng(seed: number) {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
  const chance = (p: number): boolean => next() < p
  const hex = (n: number): string => {
    let s = ''
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[int(16)]
    return s
  }
  const uuid = (): string =>
    `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`
  return { next, int, pick, chance, hex, uuid }
}
export type Rng = ReturnType<typeof createRng>

/** Weighted choice over `[weight, value]` pairs. */
function weighted<T>(rng: Rng, table: readonly (readonly [number, T])[]): T {
  const total = table.reduce((sum, [w]) => sum + w, 0)
  let r = rng.next() * total
  for (const [w, v] of table) {
    r -= w
    if (r < 0) return v
  }
  return table[table.length - 1]![1]
}

// ---------------------------------------------------------------------------------------------------------
// Audit events

const K8S_VERSION = 'v1.36.3'
const NODES = ['node-a1', 'node-a2', 'node-b1', 'node-b2', 'node-c1', 'node-c2']
const APP_NAMESPACES = ['default', 'payments', 'checkout', 'web', 'data', 'ml-serving', 'monitoring', 'ci']
const CONTROLLERS = [
  'replicaset-controller',
  'deployment-controller',
  'endpointslice-controller',
  'namespace-controller',
  'job-controller',
  'cronjob-controller',
  'daemon-set-controller',
  'generic-garbage-collector',
  'statefulset-controller',
  'service-account-controller',
]
const OPERATOR_SAS = [
  'system:serviceaccount:cert-manager:cert-manager',
  'system:serviceaccount:argocd:argocd-application-controller',
  'system:serviceaccount:monitoring:prometheus-k8s',
  'system:serviceaccount:flux-system:kustomize-controller',
  'system:serviceaccount:ingress-nginx:ingress-nginx',
  'system:serviceaccount:kube-system:coredns',
]
const HUMANS = [
  'alice@example.com',
  'bob@example.com',
  'carol@example.com',
  'kubernetes-admin',
  'dave@example.com',
]
const CI_USERS = ['system:serviceaccount:ci:deployer', 'gitlab-runner', 'jenkins']
const PODS = [
  'api-7d9f8',
  'web-5c6b7',
  'worker-84f2d',
  'db-0',
  'redis-0',
  'ingest-6f5d4',
  'victim',
  'toolbox',
]
const SECRET_NAMES = [
  'db-credentials',
  'tls-web',
  'registry-pull',
  'api-token',
  'canary-db',
  'aws-creds',
  'sh.helm.release.v1.web.v3',
]
const IPS_INTERNAL = ['10.0.1.12', '10.0.2.31', '10.0.3.7', '172.18.0.1', '192.168.49.2']
const IPS_EXTERNAL = ['203.0.113.45', '198.51.100.23', '45.33.32.156']
const KUBECTL_UA = [
  `kubectl/${K8S_VERSION} (linux/amd64) kubernetes/a1b2c3d`,
  'kubectl/v1.35.0 (darwin/arm64) kubernetes/66452049',
  'kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819',
  'kubectl/v1.22.1 (windows/amd64) kubernetes/632ed30',
]
const ODD_UA = [
  'python-requests/2.31.0',
  'curl/8.5.0',
  'Go-http-client/1.1',
  'trufflehog/3.63.0',
  'kubectl-who-can/0.4',
]
const EXEC_COMMANDS: readonly (readonly [number, readonly string[]])[] = [
  [6, ['sh', '-c', 'date']],
  [5, ['cat', '/etc/hostname']],
  [4, ['ps', 'aux']],
  [3, ['env']],
  [3, ['ls', '-la', '/app']],
  [2, ['psql', '-c', 'select 1']],
  [2, ['curl', '-s', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/']],
  [2, ['cat', '/var/run/secrets/kubernetes.io/serviceaccount/token']],
  [1, ['/bin/bash']],
  [1, ['wget', '-qO-', 'http://metadata.google.internal/computeMetadata/v1/']],
]

interface AuditInput {
  verb: string
  uri: string
  user: string
  groups: readonly string[]
  ua: string
  ip: string
  resource?: { resource: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string }
  code: number
  stage?: string
  requestObject?: unknown
}

/** Go's url.Values.Encode for exec options, with one `command=` per argv element (as kubectl sends). */
function execQuery(argv: readonly string[], container: string, tty: boolean): string {
  const enc = (s: string) =>
    encodeURIComponent(s)
      .replace(/%20/g, '+')
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return [
    ...argv.map((a) => `command=${enc(a)}`),
    `container=${container}`,
    'stderr=true',
    ...(tty ? ['stdin=true'] : []),
    'stdout=true',
    ...(tty ? ['tty=true'] : []),
  ].join('&')
}

function resourceUri(r: NonNullable<AuditInput['resource']>, list: boolean): string {
  const base = r.apiGroup ? `/apis/${r.apiGroup}/v1` : '/api/v1'
  const ns = r.namespace ? `/namespaces/${r.namespace}` : ''
  const name = r.name && !list ? `/${r.name}` : ''
  const sub = r.subresource && r.name ? `/${r.subresource}` : ''
  return `${base}${ns}/${r.resource}${name}${sub}`
}

function userInfo(rng: Rng, user: string, groups: readonly string[]) {
  const info: Record<string, unknown> = { username: user }
  if (user.startsWith('system:serviceaccount:')) info.uid = rng.uuid()
  info.groups = groups
  if (!user.startsWith('system:')) {
    info.extra = { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${rng.hex(64)}`] }
  }
  return info
}

function rbacReason(user: string, code: number): string {
  if (code === 403) return ''
  if (user.startsWith('system:node:')) return ''
  const role = user.startsWith('system:serviceaccount:') ? user.split(':')[3] : 'cluster-admin'
  return `RBAC: allowed by ClusterRoleBinding "${role}-binding" of ClusterRole "${role}" to User "${user}"`
}

class AuditClock {
  #ms = Date.UTC(2026, 0, 12, 8, 0, 0)
  #micros = 0
  tick(rng: Rng): string {
    this.#ms += rng.int(4)
    this.#micros = rng.int(1000)
    return this.stamp(0)
  }
  stamp(extraMs: number): string {
    const iso = new Date(this.#ms + extraMs).toISOString()
    return `${iso.slice(0, 23)}${String(this.#micros).padStart(3, '0')}Z`
  }
}

function auditEvent(rng: Rng, clock: AuditClock, e: AuditInput): Record<string, unknown> {
  const received = clock.tick(rng)
  const stage = e.stage ?? 'ResponseComplete'
  const ev: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: e.requestObject ? 'Request' : 'Metadata',
    auditID: rng.uuid(),
    stage,
    requestURI: e.uri,
    verb: e.verb,
    user: userInfo(rng, e.user, e.groups),
    sourceIPs: [e.ip],
    userAgent: e.ua,
  }
  if (e.resource)
    ev.objectRef = { ...e.resource, apiVersion: e.resource.apiGroup ? `${e.resource.apiGroup}/v1` : 'v1' }
  if (stage !== 'RequestReceived') {
    ev.responseStatus =
      e.code < 300
        ? { metadata: {}, code: e.code }
        : {
            metadata: {},
            status: 'Failure',
            message: `${e.verb} is forbidden`,
            reason: e.code === 403 ? 'Forbidden' : 'NotFound',
            code: e.code,
          }
  }
  if (e.requestObject) ev.requestObject = e.requestObject
  ev.requestReceivedTimestamp = received
  ev.stageTimestamp = clock.stamp(stage === 'RequestReceived' ? 0 : 1 + rng.int(40))
  const decision = e.code === 403 ? 'forbid' : 'allow'
  const annotations: Record<string, string> = { 'authorization.k8s.io/decision': decision }
  const reason = rbacReason(e.user, e.code)
  if (reason) annotations['authorization.k8s.io/reason'] = reason
  if (e.resource?.resource === 'pods' && e.verb === 'create')
    annotations['pod-security.kubernetes.io/enforce-policy'] = 'baseline:latest'
  ev.annotations = annotations
  return ev
}

const NODE_GROUPS = ['system:nodes', 'system:authenticated']
const HUMAN_GROUPS = ['kubeadm:cluster-admins', 'system:authenticated']
const saGroups = (user: string) => [
  'system:serviceaccounts',
  `system:serviceaccounts:${user.split(':')[2]}`,
  'system:authenticated',
]
const componentUa = (name: string) => `${name}/${K8S_VERSION} (linux/amd64) kubernetes/a1b2c3d`

type Family = (rng: Rng) => AuditInput

/** Leader election and node heartbeats: the bulk of any real audit log. */
const leases: Family = (rng) => {
  const node = rng.chance(0.6)
  const user = node
    ? `system:node:${rng.pick(NODES)}`
    : rng.pick(['system:kube-controller-manager', 'system:kube-scheduler'])
  const r = node
    ? {
        resource: 'leases',
        namespace: 'kube-node-lease',
        name: user.slice(12),
        apiGroup: 'coordination.k8s.io',
      }
    : { resource: 'leases', namespace: 'kube-system', name: user.slice(7), apiGroup: 'coordination.k8s.io' }
  const verb = rng.chance(0.5) ? 'update' : 'get'
  const ua = node ? componentUa('kubelet') : `${componentUa(user.slice(7))}/leader-election`
  return {
    verb,
    uri: resourceUri(r, false),
    user,
    groups: node ? NODE_GROUPS : ['system:authenticated'],
    ua,
    ip: rng.pick(IPS_INTERNAL),
    resource: r,
    code: 200,
  }
}

/** Controllers and operators watching and syncing ordinary objects. */
const controllers: Family = (rng) => {
  const ctrl = rng.pick(CONTROLLERS)
  const user = `system:serviceaccount:kube-system:${ctrl}`
  const resource = weighted(rng, [
    [3, 'pods'],
    [2, 'replicasets'],
    [3, 'endpointslices'],
    [1, 'deployments'],
    [1, 'configmaps'],
    [1, 'events'],
    [1, 'jobs'],
  ] as const)
  const apiGroup =
    resource === 'pods' || resource === 'configmaps' || resource === 'events'
      ? undefined
      : resource === 'endpointslices'
        ? 'discovery.k8s.io'
        : resource === 'jobs'
          ? 'batch'
          : 'apps'
  const verb = weighted(rng, [
    [3, 'get'],
    [1, 'list'],
    [2, 'watch'],
    [3, 'update'],
    [2, 'patch'],
    [1, 'create'],
  ] as const)
  const r = {
    resource,
    namespace: rng.pick(APP_NAMESPACES),
    ...(verb === 'list' || verb === 'watch' ? {} : { name: `${rng.pick(PODS)}` }),
    ...(apiGroup ? { apiGroup } : {}),
  }
  let uri = resourceUri(r, verb === 'list' || verb === 'watch')
  if (verb === 'watch')
    uri += `?allowWatchBookmarks=true&resourceVersion=${rng.int(9_000_000)}&timeout=${5 + rng.int(5)}m${rng.int(60)}s&timeoutSeconds=${300 + rng.int(300)}&watch=true`
  if (verb === 'list') uri += '?limit=500&resourceVersion=0'
  return {
    verb,
    uri,
    user,
    groups: saGroups(user),
    ua: `${componentUa('kube-controller-manager')}/${ctrl}`,
    ip: rng.pick(IPS_INTERNAL),
    resource: r,
    code: rng.chance(0.97) ? 200 : 404,
    stage: verb === 'watch' && rng.chance(0.5) ? 'ResponseStarted' : undefined,
  }
}

/** Kubelets fetching the secrets and configmaps their pods mount (the main benign secret traffic). */
const kubeletMounts: Family = (rng) => {
  const user = `system:node:${rng.pick(NODES)}`
  const resource = rng.chance(0.5) ? 'secrets' : 'configmaps'
  const name =
    resource === 'secrets'
      ? rng.pick(SECRET_NAMES)
      : rng.pick(['kube-root-ca.crt', 'app-config', 'nginx-conf'])
  const r = { resource, namespace: rng.pick(APP_NAMESPACES), name }
  const watch = rng.chance(0.6)
  const uri = watch
    ? `${resourceUri(r, true)}?allowWatchBookmarks=true&fieldSelector=metadata.name%3D${name}&resourceVersion=${rng.int(9_000_000)}&timeout=${5 + rng.int(5)}m0s&timeoutSeconds=${300 + rng.int(300)}&watch=true`
    : resourceUri(r, false)
  return {
    verb: watch ? 'watch' : 'get',
    uri,
    user,
    groups: NODE_GROUPS,
    ua: componentUa('kubelet'),
    ip: rng.pick(IPS_INTERNAL),
    resource: r,
    code: 200,
  }
}

/** Health probes and discovery: non-resource URLs. */
const probes: Family = (rng) => {
  const path = rng.pick([
    '/readyz',
    '/livez',
    '/healthz',
    '/version',
    '/openapi/v2?timeout=32s',
    '/apis',
    '/api?timeout=32s',
  ])
  const anon = path.startsWith('/readyz') || path.startsWith('/livez') || path.startsWith('/healthz')
  const user = anon ? 'system:anonymous' : rng.pick(OPERATOR_SAS)
  return {
    verb: 'get',
    uri: path,
    user,
    groups: anon ? ['system:unauthenticated'] : saGroups(user),
    ua: anon ? 'kube-probe/1.36' : `${user.split(':')[3]}/v0.0.0 (linux/amd64) kubernetes/$Format`,
    ip: rng.pick(IPS_INTERNAL),
    code: 200,
  }
}

/** Operators touching the objects they own (cert-manager secrets, Argo syncs, Prometheus discovery). */
const operators: Family = (rng) => {
  const user = rng.pick(OPERATOR_SAS)
  const resource = weighted(rng, [
    [3, 'secrets'],
    [3, 'configmaps'],
    [3, 'services'],
    [2, 'endpoints'],
    [2, 'deployments'],
    [1, 'rolebindings'],
    [1, 'ingresses'],
    [1, 'customresourcedefinitions'],
  ] as const)
  const apiGroup = {
    secrets: undefined,
    configmaps: undefined,
    services: undefined,
    endpoints: undefined,
    deployments: 'apps',
    rolebindings: 'rbac.authorization.k8s.io',
    ingresses: 'networking.k8s.io',
    customresourcedefinitions: 'apiextensions.k8s.io',
  }[resource]
  const verb = rng.pick(['get', 'list', 'watch', 'update', 'patch', 'create'])
  const list = verb === 'list' || verb === 'watch'
  const r = {
    resource,
    ...(resource === 'customresourcedefinitions' ? {} : { namespace: rng.pick(APP_NAMESPACES) }),
    ...(list ? {} : { name: `${rng.pick(['web', 'api', 'tls', 'grafana'])}-${rng.hex(4)}` }),
    ...(apiGroup ? { apiGroup } : {}),
  }
  const uri = resourceUri(r, list) + (list ? (verb === 'watch' ? '?watch=true' : '?limit=500') : '')
  return {
    verb,
    uri,
    user,
    groups: saGroups(user),
    ua: `${user.split(':')[3]}/v1.14.2 (linux/amd64) controller`,
    ip: rng.pick(IPS_INTERNAL),
    resource: r,
    code: 200,
  }
}

/** People and CI with kubectl: reads, describes, logs, rollouts, and occasionally something suspicious. */
const humans: Family = (rng) => {
  const ci = rng.chance(0.3)
  const user = ci ? rng.pick(CI_USERS) : rng.pick(HUMANS)
  const groups = user.startsWith('system:serviceaccount:') ? saGroups(user) : HUMAN_GROUPS
  const ua = rng.chance(0.93) ? rng.pick(KUBECTL_UA) : rng.pick(ODD_UA)
  const ip = rng.chance(0.95) ? rng.pick(IPS_INTERNAL) : rng.pick(IPS_EXTERNAL)
  const ns = rng.pick([...APP_NAMESPACES, 'kube-system'])
  const action = weighted(rng, [
    [10, 'get-pods'],
    [4, 'get-deploy'],
    [4, 'logs'],
    [3, 'get-secrets'],
    [3, 'describe-secret'],
    [3, 'exec'],
    [2, 'get-cm'],
    [2, 'rbac'],
    [2, 'rollout'],
    [1, 'delete'],
    [1, 'token'],
    [1, 'run-pod'],
    [1, 'can-i'],
    [1, 'portforward'],
  ] as const)
  const pod = rng.pick(PODS)
  const base = { user, groups, ua, ip }
  switch (action) {
    case 'get-pods': {
      const r = { resource: 'pods', namespace: ns }
      return { ...base, verb: 'list', uri: `${resourceUri(r, true)}?limit=500`, resource: r, code: 200 }
    }
    case 'get-deploy': {
      const r = { resource: 'deployments', namespace: ns, apiGroup: 'apps' }
      return { ...base, verb: 'list', uri: `${resourceUri(r, true)}?limit=500`, resource: r, code: 200 }
    }
    case 'logs': {
      const r = { resource: 'pods', namespace: ns, name: pod, subresource: 'log' }
      return {
        ...base,
        verb: 'get',
        uri: `${resourceUri(r, false)}?container=app&follow=true`,
        resource: r,
        code: 200,
      }
    }
    case 'get-secrets': {
      const all = rng.chance(0.2)
      const r = all ? { resource: 'secrets' } : { resource: 'secrets', namespace: ns }
      return {
        ...base,
        verb: 'list',
        uri: `${resourceUri(r, true)}?limit=500`,
        resource: r,
        code: rng.chance(0.85) ? 200 : 403,
      }
    }
    case 'describe-secret': {
      const r = { resource: 'secrets', namespace: ns, name: rng.pick(SECRET_NAMES) }
      return {
        ...base,
        verb: 'get',
        uri: resourceUri(r, false),
        resource: r,
        code: rng.chance(0.9) ? 200 : 403,
      }
    }
    case 'exec': {
      const argv = weighted(rng, EXEC_COMMANDS)
      const r = { resource: 'pods', namespace: ns, name: pod, subresource: 'exec' }
      const started = rng.chance(0.5)
      return {
        ...base,
        verb: rng.chance(0.8) ? 'get' : 'create',
        uri: `${resourceUri(r, false)}?${execQuery(argv, 'app', argv.length === 1 && rng.chance(0.7))}`,
        resource: r,
        code: started ? 101 : 200,
        stage: started ? 'ResponseStarted' : 'ResponseComplete',
      }
    }
    case 'get-cm': {
      const r = { resource: 'configmaps', namespace: ns }
      return { ...base, verb: 'list', uri: `${resourceUri(r, true)}?limit=500`, resource: r, code: 200 }
    }
    case 'rbac': {
      const resource = rng.pick(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'])
      const cluster = resource.startsWith('cluster')
      const verb = rng.pick(['get', 'list', 'create', 'patch', 'delete'])
      const r = {
        resource,
        ...(cluster ? {} : { namespace: ns }),
        ...(verb === 'list' ? {} : { name: rng.pick(['edit-binding', 'view', 'ops-admin', 'debug-access']) }),
        apiGroup: 'rbac.authorization.k8s.io',
      }
      return { ...base, verb, uri: resourceUri(r, verb === 'list'), resource: r, code: 200 }
    }
    case 'rollout': {
      const r = { resource: 'deployments', namespace: ns, name: pod.split('-')[0]!, apiGroup: 'apps' }
      return {
        ...base,
        verb: 'patch',
        uri: `${resourceUri(r, false)}?fieldManager=kubectl-rollout`,
        resource: r,
        code: 200,
      }
    }
    case 'delete': {
      const resource = rng.pick(['pods', 'events', 'deployments', 'secrets', 'cronjobs'])
      const apiGroup = resource === 'deployments' ? 'apps' : resource === 'cronjobs' ? 'batch' : undefined
      const r = { resource, namespace: ns, name: `${pod}-${rng.hex(5)}`, ...(apiGroup ? { apiGroup } : {}) }
      return { ...base, verb: 'delete', uri: resourceUri(r, false), resource: r, code: 200 }
    }
    case 'token': {
      const r = {
        resource: 'serviceaccounts',
        namespace: ns,
        name: rng.pick(['default', 'deployer', 'prometheus']),
        subresource: 'token',
      }
      return { ...base, verb: 'create', uri: resourceUri(r, false), resource: r, code: 201 }
    }
    case 'run-pod': {
      const r = { resource: 'pods', namespace: ns, name: `debug-${rng.hex(5)}` }
      const privileged = rng.chance(0.3)
      const hostPath = rng.chance(0.2)
      const requestObject = {
        kind: 'Pod',
        apiVersion: 'v1',
        metadata: { name: r.name, namespace: ns },
        spec: {
          containers: [
            {
              name: 'debug',
              image: 'registry.local/busybox:1.36',
              command: ['sleep', '3600'],
              securityContext: privileged ? { privileged: true } : { runAsNonRoot: true },
            },
          ],
          ...(hostPath ? { volumes: [{ name: 'host', hostPath: { path: '/' } }] } : {}),
          ...(rng.chance(0.1) ? { hostNetwork: true } : {}),
        },
      }
      return {
        ...base,
        verb: 'create',
        uri: resourceUri({ resource: 'pods', namespace: ns }, true),
        resource: r,
        code: 201,
        requestObject,
      }
    }
    case 'can-i': {
      const r = { resource: 'selfsubjectrulesreviews', apiGroup: 'authorization.k8s.io' }
      return { ...base, verb: 'create', uri: resourceUri(r, true), resource: r, code: 201 }
    }
    case 'portforward': {
      const r = { resource: 'pods', namespace: ns, name: pod, subresource: 'portforward' }
      return {
        ...base,
        verb: 'get',
        uri: `${resourceUri(r, false)}?ports=5432`,
        resource: r,
        code: 101,
        stage: 'ResponseStarted',
      }
    }
  }
}

/** Unauthenticated scans and forbidden probes from outside. */
const anonymous: Family = (rng) => {
  const path = rng.pick([
    '/api/v1/secrets',
    '/api/v1/namespaces/kube-system/secrets',
    '/api/v1/pods',
    '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    '/.env',
    '/api/v1/namespaces/default/pods/x/exec',
  ])
  return {
    verb: path === '/.env' ? 'get' : 'list',
    uri: path,
    user: 'system:anonymous',
    groups: ['system:unauthenticated'],
    ua: rng.pick(ODD_UA),
    ip: rng.pick(IPS_EXTERNAL),
    code: 403,
  }
}

/** Token requests kubelets make for projected service-account volumes. */
const kubeletTokens: Family = (rng) => {
  const ns = rng.pick(APP_NAMESPACES)
  const r = { resource: 'serviceaccounts', namespace: ns, name: 'default', subresource: 'token' }
  return {
    verb: 'create',
    uri: resourceUri(r, false),
    user: `system:node:${rng.pick(NODES)}`,
    groups: NODE_GROUPS,
    ua: componentUa('kubelet'),
    ip: rng.pick(IPS_INTERNAL),
    resource: r,
    code: 201,
  }
}

/** Node heartbeats: kubelets patching their node status and reading their node. */
const nodeStatus: Family = (rng) => {
  const node = rng.pick(NODES)
  const patch = rng.chance(0.7)
  const r = { resource: 'nodes', name: node, ...(patch ? { subresource: 'status' } : {}) }
  return {
    verb: patch ? 'patch' : 'get',
    uri: resourceUri(r, false) + (patch ? '?timeout=10s' : '?resourceVersion=0&timeout=10s'),
    user: `system:node:${node}`,
    groups: NODE_GROUPS,
    ua: componentUa('kubelet'),
    ip: rng.pick(IPS_INTERNAL),
    resource: r,
    code: 200,
  }
}

// Shares of a busy production cluster's audit log: heartbeats and controllers dominate.
const FAMILIES: readonly (readonly [number, Family])[] = [
  [36, leases],
  [8, nodeStatus],
  [22, controllers],
  [5, kubeletMounts],
  [7, probes],
  [8, operators],
  [5, humans],
  [2, kubeletTokens],
  [0.3, anonymous],
]

/** Writes `lines` audit events as JSONL, streaming (constant memory). */
export async function writeAuditLog(file: string, lines: number, seed: number): Promise<void> {
  const rng = createRng(seed)
  const clock = new AuditClock()
  const out = createWriteStream(file)
  const batch: string[] = []
  for (let i = 0; i < lines; i++) {
    const family = weighted(rng, FAMILIES)
    batch.push(JSON.stringify(auditEvent(rng, clock, family(rng))))
    if (batch.length === 2000 || i === lines - 1) {
      // Go's encoder writes `&` as \u0026 (as real audit logs do).
      const text = `${batch.join('\n').replaceAll('&', '\\u0026')}\n`
      batch.length = 0
      if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  )
}

// ---------------------------------------------------------------------------------------------------------
// Sigma rules

type Detection = Record<string, unknown> & { condition: string }
interface RuleSpec {
  name: string
  title: string
  level: 'informational' | 'low' | 'medium' | 'high' | 'critical'
  tags: string[]
  detection: Detection
}

const SYSTEM_PREFIXES = ['system:node:', 'system:kube-', 'system:serviceaccount:kube-system:']
const PRIVATE_NETS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8']
const notSystem = { 'user.username|startswith': SYSTEM_PREFIXES }
const EXEC = { 'objectRef.subresource': 'exec', 'objectRef.resource': 'pods', verb: ['get', 'create'] }

/** Sensitive resources with read/modify/delete rules each, as real rule packs have. */
const SENSITIVE: readonly (readonly [string, string])[] = [
  ['secrets', 'attack.t1552.007'],
  ['configmaps', 'attack.t1552.007'],
  ['ingresses', 'attack.t1090'],
  ['roles', 'attack.t1069'],
  ['rolebindings', 'attack.t1098'],
  ['clusterroles', 'attack.t1069'],
  ['clusterrolebindings', 'attack.t1098'],
  ['mutatingwebhookconfigurations', 'attack.t1546'],
  ['validatingwebhookconfigurations', 'attack.t1562.001'],
  ['daemonsets', 'attack.t1610'],
  ['cronjobs', 'attack.t1053.007'],
  ['networkpolicies', 'attack.t1562.007'],
  ['certificatesigningrequests', 'attack.t1649'],
  ['customresourcedefinitions', 'attack.t1546'],
  ['priorityclasses', 'attack.t1499'],
  ['persistentvolumes', 'attack.t1005'],
]

function resourceRules(): RuleSpec[] {
  const operatorFilter = { 'user.username': OPERATOR_SAS.slice(0, 4) }
  return SENSITIVE.flatMap(([resource, technique]): RuleSpec[] => [
    {
      name: `k8s_${resource}_read`,
      title: `Kubernetes ${resource} read by a non-system identity`,
      level: resource === 'secrets' ? 'medium' : 'low',
      tags: ['attack.discovery', technique],
      detection: {
        selection: { verb: ['get', 'list', 'watch'], 'objectRef.resource': resource },
        filter_system: notSystem,
        filter_operators: operatorFilter,
        condition: 'selection and not 1 of filter_*',
      },
    },
    {
      name: `k8s_${resource}_modified`,
      title: `Kubernetes ${resource} created or modified`,
      level: 'medium',
      tags: ['attack.persistence', technique],
      detection: {
        selection: { verb: ['create', 'update', 'patch'], 'objectRef.resource': resource },
        filter_system: notSystem,
        condition: 'selection and not filter_system',
      },
    },
    {
      name: `k8s_${resource}_deleted`,
      title: `Kubernetes ${resource} deleted`,
      level: 'medium',
      tags: ['attack.impact', technique],
      detection: {
        selection: { verb: ['delete', 'deletecollection'], 'objectRef.resource': resource },
        condition: 'selection',
      },
    },
  ])
}

const execRule = (name: string, title: string, level: RuleSpec['level'], uri: unknown): RuleSpec => ({
  name,
  title,
  level,
  tags: ['attack.execution', 'attack.t1609'],
  detection: {
    selection: EXEC,
    selection_cmd: { 'requestURI|contains': uri },
    condition: 'selection and selection_cmd',
  },
})

function specificRules(): RuleSpec[] {
  const odd = ['python-requests/', 'curl/', 'Wget/', 'Go-http-client/']
  const privateIp = { 'sourceIPs|cidr': PRIVATE_NETS }
  return [
    {
      name: 'k8s_exec',
      title: 'Kubernetes exec into container',
      level: 'medium',
      tags: ['attack.execution', 'attack.t1609'],
      detection: { selection: EXEC, condition: 'selection' },
    },
    execRule('k8s_exec_imds', 'Cloud metadata service queried through pod exec', 'high', [
      '169.254.169.254',
      'metadata.google.internal',
      'metadata.azure.com',
      'meta-data',
    ]),
    execRule('k8s_exec_sa_token', 'Service account token read through pod exec', 'high', [
      '%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount',
      '%2Fvar%2Frun%2Fsecrets%2Feks.amazonaws.com%2Fserviceaccount',
    ]),
    execRule('k8s_exec_shell', 'Interactive shell spawned through pod exec', 'medium', [
      'command=sh&',
      'command=bash',
      'command=%2Fbin%2Fsh',
      'command=%2Fbin%2Fbash',
    ]),
    execRule('k8s_exec_env', 'Environment dumped through pod exec', 'medium', [
      'command=env&',
      'command=printenv',
    ]),
    execRule('k8s_exec_download', 'Download tool run through pod exec', 'high', [
      'command=curl',
      'command=wget',
    ]),
    execRule('k8s_exec_db_client', 'Database client run through pod exec', 'low', [
      'command=psql',
      'command=mysql',
      'command=redis-cli',
    ]),
    execRule('k8s_exec_recon', 'Host reconnaissance through pod exec', 'low', [
      'command=ps&',
      'command=id&',
      'command=whoami',
      'command=uname',
    ]),
    execRule('k8s_exec_read_etc', 'Sensitive file read through pod exec', 'medium', [
      '%2Fetc%2Fshadow',
      '%2Fetc%2Fpasswd',
      '%2Froot%2F.ssh',
    ]),
    {
      name: 'k8s_exec_control_plane',
      title: 'Exec into a control-plane pod',
      level: 'high',
      tags: ['attack.execution', 'attack.t1609'],
      detection: {
        selection: EXEC,
        target: { 'objectRef.name|startswith': ['etcd-', 'kube-apiserver-', 'kube-controller-manager-'] },
        condition: 'selection and target',
      },
    },
    {
      name: 'k8s_exec_tty',
      title: 'Interactive (TTY) exec into a container',
      level: 'medium',
      tags: ['attack.execution', 'attack.t1609'],
      detection: {
        selection: EXEC,
        tty: { 'requestURI|contains': 'tty=true' },
        condition: 'selection and tty',
      },
    },
    {
      name: 'k8s_exec_external',
      title: 'Exec from outside the cluster networks',
      level: 'high',
      tags: ['attack.execution', 'attack.t1609'],
      detection: {
        selection: EXEC,
        filter_private: privateIp,
        condition: 'selection and not filter_private',
      },
    },
    {
      name: 'k8s_attach',
      title: 'Kubernetes attach to container',
      level: 'medium',
      tags: ['attack.execution', 'attack.t1609'],
      detection: {
        selection: { 'objectRef.resource': 'pods', 'objectRef.subresource': 'attach' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_portforward',
      title: 'Kubernetes port-forward to a pod',
      level: 'low',
      tags: ['attack.lateral-movement', 'attack.t1572'],
      detection: {
        selection: { 'objectRef.resource': 'pods', 'objectRef.subresource': 'portforward' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_pod_logs_human',
      title: 'Container logs read by a person',
      level: 'low',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { 'objectRef.subresource': 'log' },
        filter_system: notSystem,
        condition: 'selection and not filter_system',
      },
    },
    {
      name: 'k8s_node_proxy',
      title: 'Kubelet API reached through nodes/proxy',
      level: 'high',
      tags: ['attack.execution', 'attack.t1609'],
      detection: {
        selection: { 'objectRef.subresource': 'proxy', 'objectRef.resource': 'nodes' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_pod_proxy',
      title: 'Pod reached through pods/proxy',
      level: 'medium',
      tags: ['attack.lateral-movement'],
      detection: {
        selection: { 'objectRef.resource': 'pods', 'objectRef.subresource': 'proxy' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_ephemeral_container',
      title: 'Ephemeral debug container added',
      level: 'medium',
      tags: ['attack.execution', 'attack.t1609'],
      detection: {
        selection: { 'objectRef.subresource': 'ephemeralcontainers', verb: ['patch', 'update'] },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_ua_python',
      title: 'Kubernetes API used by python-requests',
      level: 'medium',
      tags: ['attack.discovery'],
      detection: { selection: { 'userAgent|startswith': 'python-requests/' }, condition: 'selection' },
    },
    {
      name: 'k8s_ua_curl',
      title: 'Kubernetes API used by curl or wget',
      level: 'medium',
      tags: ['attack.discovery'],
      detection: { selection: { 'userAgent|startswith': ['curl/', 'Wget/'] }, condition: 'selection' },
    },
    {
      name: 'k8s_ua_go_client_human',
      title: 'Generic Go HTTP client used by a non-system identity',
      level: 'low',
      tags: ['attack.discovery'],
      detection: {
        selection: { 'userAgent|startswith': 'Go-http-client/' },
        filter_system: { 'user.username|startswith': 'system:' },
        condition: 'selection and not filter_system',
      },
    },
    {
      name: 'k8s_ua_offensive_tool',
      title: 'Offensive Kubernetes tool user agent',
      level: 'high',
      tags: ['attack.discovery', 'attack.t1613'],
      detection: {
        selection: {
          'userAgent|contains': [
            'trufflehog',
            'kubectl-who-can',
            'peirates',
            'kube-hunter',
            'azurehound',
            'kubiscan',
            'access_matrix',
          ],
        },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_ua_old_kubectl',
      title: 'Outdated kubectl client',
      level: 'informational',
      tags: ['attack.defense-evasion'],
      detection: {
        selection: { 'userAgent|startswith': 'kubectl/' },
        old: { 'userAgent|re': '^kubectl/v1\\.(1[0-9]|2[0-5])\\.' },
        condition: 'selection and old',
      },
    },
    {
      name: 'k8s_ua_kubectl_windows',
      title: 'kubectl from a Windows workstation',
      level: 'informational',
      tags: ['attack.initial-access'],
      detection: {
        selection: { 'userAgent|startswith': 'kubectl/', 'userAgent|contains': '(windows/' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_secrets_odd_ua',
      title: 'Secrets accessed with a scripting client',
      level: 'high',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { 'objectRef.resource': 'secrets' },
        ua: { 'userAgent|startswith': odd },
        condition: 'selection and ua',
      },
    },
    {
      name: 'k8s_anonymous',
      title: 'Anonymous request beyond health endpoints',
      level: 'high',
      tags: ['attack.initial-access', 'attack.t1078'],
      detection: {
        selection: { 'user.username': 'system:anonymous' },
        filter_health: { 'requestURI|startswith': ['/readyz', '/livez', '/healthz', '/version'] },
        condition: 'selection and not filter_health',
      },
    },
    {
      name: 'k8s_anonymous_external',
      title: 'Anonymous request from outside the cluster networks',
      level: 'high',
      tags: ['attack.initial-access', 'attack.t1078'],
      detection: {
        selection: { 'user.username': 'system:anonymous' },
        filter_private: privateIp,
        condition: 'selection and not filter_private',
      },
    },
    {
      name: 'k8s_secrets_forbidden',
      title: 'Forbidden secret access',
      level: 'medium',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { 'objectRef.resource': 'secrets', 'responseStatus.code': 403 },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_forbidden_human',
      title: 'Request forbidden for a person',
      level: 'low',
      tags: ['attack.discovery'],
      detection: {
        selection: { 'annotations.authorization.k8s.io/decision': 'forbid' },
        filter_system: { 'user.username|startswith': 'system:' },
        condition: 'selection and not filter_system',
      },
    },
    {
      name: 'k8s_sa_token_request',
      title: 'Service account token requested by a non-node identity',
      level: 'high',
      tags: ['attack.credential-access', 'attack.t1528'],
      detection: {
        selection: { 'objectRef.subresource': 'token' },
        filter_node: { 'user.username|startswith': 'system:node:' },
        condition: 'selection and not filter_node',
      },
    },
    {
      name: 'k8s_rbac_self_review',
      title: 'RBAC permissions listed (kubectl auth can-i --list)',
      level: 'low',
      tags: ['attack.discovery', 'attack.t1069'],
      detection: {
        selection: { 'objectRef.resource': ['selfsubjectrulesreviews', 'selfsubjectaccessreviews'] },
        filter_system: notSystem,
        condition: 'selection and not filter_system',
      },
    },
    {
      name: 'k8s_impersonate_masters',
      title: 'Impersonation of system:masters',
      level: 'critical',
      tags: ['attack.privilege-escalation', 'attack.t1078'],
      detection: { selection: { 'impersonatedUser.groups': 'system:masters' }, condition: 'selection' },
    },
    {
      name: 'k8s_secrets_list_all_namespaces',
      title: 'Secrets listed across all namespaces',
      level: 'high',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { verb: ['list', 'watch'], 'requestURI|startswith': '/api/v1/secrets' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_bootstrap_token_read',
      title: 'Bootstrap token secret read by a non-system identity',
      level: 'high',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { 'objectRef.resource': 'secrets', 'objectRef.name|startswith': 'bootstrap-token-' },
        filter_system: notSystem,
        condition: 'selection and not filter_system',
      },
    },
    {
      name: 'k8s_secret_name_credential',
      title: 'Credential-looking secret fetched',
      level: 'medium',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { 'objectRef.resource': 'secrets', verb: 'get' },
        name: { 'objectRef.name|re': '(token|cred|password|aws|key)' },
        filter_node: { 'user.username|startswith': 'system:node:' },
        condition: 'selection and name and not filter_node',
      },
    },
    {
      name: 'k8s_secrets_external_ip',
      title: 'Secrets accessed from outside the cluster networks',
      level: 'high',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { 'objectRef.resource': 'secrets' },
        filter_private: privateIp,
        condition: 'selection and not filter_private',
      },
    },
    {
      name: 'k8s_kubectl_external_ip',
      title: 'kubectl used from outside the cluster networks',
      level: 'medium',
      tags: ['attack.initial-access'],
      detection: {
        selection: { 'userAgent|startswith': 'kubectl/' },
        filter_private: privateIp,
        condition: 'selection and not filter_private',
      },
    },
    {
      name: 'k8s_secrets_describe',
      title: 'Secret fetched by name by a person',
      level: 'medium',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { 'objectRef.resource': 'secrets', verb: 'get', 'userAgent|startswith': 'kubectl/' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_privileged_pod',
      title: 'Privileged pod created',
      level: 'high',
      tags: ['attack.privilege-escalation', 'attack.t1611'],
      detection: {
        selection: {
          verb: 'create',
          'objectRef.resource': 'pods',
          'requestObject.spec.containers.securityContext.privileged': 'true',
        },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_hostpath_pod',
      title: 'Pod with a hostPath volume created',
      level: 'high',
      tags: ['attack.privilege-escalation', 'attack.t1611'],
      detection: {
        selection: {
          verb: 'create',
          'objectRef.resource': 'pods',
          'requestObject.spec.volumes.hostPath.path|startswith': '/',
        },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_hostnetwork_pod',
      title: 'Pod sharing the host network created',
      level: 'medium',
      tags: ['attack.privilege-escalation', 'attack.t1611'],
      detection: {
        selection: { verb: 'create', 'objectRef.resource': 'pods', 'requestObject.spec.hostNetwork': 'true' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_static_pod_name_human',
      title: 'Pod named like a control-plane component created by a person',
      level: 'high',
      tags: ['attack.persistence', 'attack.t1610'],
      detection: {
        selection: { verb: 'create', 'objectRef.resource': 'pods' },
        name: { 'objectRef.name|startswith': ['kube-apiserver-', 'etcd-', 'kube-scheduler-'] },
        filter_system: notSystem,
        condition: 'selection and name and not filter_system',
      },
    },
    {
      name: 'k8s_debug_pod',
      title: 'Debug pod created by a person',
      level: 'low',
      tags: ['attack.execution', 'attack.t1610'],
      detection: {
        selection: { 'objectRef.name|startswith': 'debug-', verb: 'create', 'objectRef.resource': 'pods' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_events_deleted',
      title: 'Kubernetes events deleted',
      level: 'medium',
      tags: ['attack.defense-evasion', 'attack.t1070'],
      detection: {
        selection: { verb: ['delete', 'deletecollection'], 'objectRef.resource': 'events' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_workload_deleted',
      title: 'Workload deleted',
      level: 'low',
      tags: ['attack.impact', 'attack.t1498'],
      detection: {
        selection: { verb: 'delete', 'objectRef.resource': ['deployments', 'statefulsets', 'replicasets'] },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_pvc_deleted',
      title: 'PersistentVolumeClaim deleted',
      level: 'medium',
      tags: ['attack.impact', 'attack.t1485'],
      detection: {
        selection: { verb: 'delete', 'objectRef.resource': 'persistentvolumeclaims' },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_pod_evicted_human',
      title: 'Pod evicted by a person',
      level: 'low',
      tags: ['attack.impact'],
      detection: {
        selection: { 'objectRef.subresource': 'eviction' },
        filter_system: notSystem,
        condition: 'selection and not filter_system',
      },
    },
    {
      name: 'k8s_tokenreview_human',
      title: 'TokenReview by a non-system identity',
      level: 'medium',
      tags: ['attack.credential-access', 'attack.t1528'],
      detection: {
        selection: { 'objectRef.resource': 'tokenreviews' },
        filter_system: notSystem,
        condition: 'selection and not filter_system',
      },
    },
    {
      name: 'k8s_csr_approval',
      title: 'Certificate signing request approved',
      level: 'medium',
      tags: ['attack.credential-access', 'attack.t1649'],
      detection: {
        selection: {
          'objectRef.resource': 'certificatesigningrequests',
          'objectRef.subresource': 'approval',
        },
        condition: 'selection',
      },
    },
    {
      name: 'k8s_helm_release_secret_read',
      title: 'Helm release secret read by a person',
      level: 'low',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection: { 'objectRef.resource': 'secrets', 'objectRef.name|startswith': 'sh.helm.release.' },
        filter_system: notSystem,
        condition: 'selection and not filter_system',
      },
    },
    {
      name: 'k8s_secrets_or_cm_by_ci',
      title: 'CI identity reading secrets or configmaps',
      level: 'low',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      detection: {
        selection_secrets: { 'objectRef.resource': 'secrets' },
        selection_cm: { 'objectRef.resource': 'configmaps' },
        ci: { 'user.username': CI_USERS },
        condition: '1 of selection_* and ci',
      },
    },
    {
      name: 'k8s_exec_or_attach_external_ua',
      title: 'Exec or attach with a non-kubectl client',
      level: 'high',
      tags: ['attack.execution', 'attack.t1609'],
      detection: {
        selection_exec: { 'objectRef.subresource': 'exec' },
        selection_attach: { 'objectRef.subresource': 'attach' },
        filter_kubectl: { 'userAgent|startswith': 'kubectl/' },
        condition: '1 of selection_* and not filter_kubectl',
      },
    },
  ]
}

export function benchRules(): RuleSpec[] {
  return [...resourceRules(), ...specificRules()]
}

function ruleYaml(spec: RuleSpec, rng: Rng): string {
  return stringify(
    {
      title: spec.title,
      id: rng.uuid(),
      name: spec.name,
      status: 'experimental',
      description: `${spec.title}. Generated for the purplekind benchmark.`,
      author: 'purplekind bench',
      date: '2026-01-12',
      tags: spec.tags,
      logsource: { category: 'application', product: 'kubernetes', service: 'audit' },
      detection: spec.detection,
      falsepositives: ['Administrators and automation doing their job'],
      level: spec.level,
    },
    { lineWidth: 0 },
  )
}

/** Generates (or reuses, when a finished set with the same parameters exists) the benchmark inputs. */
export async function ensureBenchData(opts: {
  root: string
  seed: number
  lines: number
}): Promise<BenchData> {
  const dir = join(opts.root, `purplekind-bench-v${GENERATOR_VERSION}-seed${opts.seed}-${opts.lines}`)
  const data = {
    dir,
    events: join(dir, 'audit.jsonl'),
    rulesDir: join(dir, 'rules'),
    k8sRulesDir: join(dir, 'rules-k8s'),
    lines: opts.lines,
  }
  const marker = join(dir, 'complete')
  // The Kubernetes set is small and written every time, so data sets made before it existed get it too.
  const writeK8sRules = async () => {
    await rm(data.k8sRulesDir, { recursive: true, force: true })
    await mkdir(data.k8sRulesDir, { recursive: true })
    const ids = createRng(opts.seed ^ 0x8a5)
    for (const rule of K8S_RULES)
      await writeFile(join(data.k8sRulesDir, `${rule.name}.yml`), k8sRuleYaml(rule, ids.uuid()))
  }
  if ((await readFile(marker, 'utf8').catch(() => '')) === 'ok') {
    await writeK8sRules()
    return data
  }
  await rm(dir, { recursive: true, force: true })
  await mkdir(data.rulesDir, { recursive: true })
  const rng = createRng(opts.seed ^ 0x5eed)
  for (const spec of benchRules())
    await writeFile(join(data.rulesDir, `${spec.name}.yml`), ruleYaml(spec, rng))
  await writeAuditLog(data.events, opts.lines, opts.seed)
  await writeK8sRules()
  await writeFile(marker, 'ok')
  return data
}
