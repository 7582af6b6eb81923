// A second benchmark rule set shaped like the community's Kubernetes audit rules (written for
// purplekind, not copied): few rules, broad selections, values that occur on most lines (`allow`), and
// tests without any literal to prefilter on (status codes), so the raw-line prefilter cannot help much.
import { stringify } from 'yaml'

type Detection = Record<string, unknown>

interface K8sRule {
  name: string
  title: string
  level: 'low' | 'medium' | 'high'
  tags: string[]
  detection: Detection
}

const ALLOWED = { 'annotations.authorization.k8s.io/decision': 'allow' }

export const K8S_RULES: readonly K8sRule[] = [
  {
    name: 'k8s_sh_anonymous_allowed',
    title: 'Anonymous user allowed to act',
    level: 'high',
    tags: ['attack.initial-access', 'attack.t1078.001'],
    detection: { selection: { 'user.username': 'system:anonymous', ...ALLOWED }, condition: 'selection' },
  },
  {
    name: 'k8s_sh_denied',
    title: 'Requests refused by authentication or authorization',
    level: 'low',
    tags: ['attack.discovery', 'attack.t1613'],
    detection: { selection: { 'responseStatus.code': [401, 403] }, condition: 'selection' },
  },
  {
    name: 'k8s_sh_secret_enum',
    title: 'Secrets enumerated',
    level: 'low',
    tags: ['attack.credential-access', 'attack.t1552.007'],
    detection: { selection: { verb: 'list', 'objectRef.resource': 'secrets' }, condition: 'selection' },
  },
  {
    name: 'k8s_sh_exec',
    title: 'Command run in a container',
    level: 'medium',
    tags: ['attack.execution', 'attack.t1609'],
    detection: { selection: { 'objectRef.subresource': 'exec', ...ALLOWED }, condition: 'selection' },
  },
  {
    name: 'k8s_sh_attach_or_portforward',
    title: 'Attach to or port-forward into a pod',
    level: 'medium',
    tags: ['attack.execution', 'attack.t1609'],
    detection: { selection: { 'objectRef.subresource': ['attach', 'portforward'] }, condition: 'selection' },
  },
  {
    name: 'k8s_sh_rbac_change',
    title: 'RBAC object created, changed or deleted',
    level: 'medium',
    tags: ['attack.privilege-escalation', 'attack.t1098'],
    detection: {
      selection: {
        'objectRef.resource': ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'],
        verb: ['create', 'update', 'patch', 'delete'],
      },
      condition: 'selection',
    },
  },
  {
    name: 'k8s_sh_events_deleted',
    title: 'Kubernetes events deleted',
    level: 'medium',
    tags: ['attack.defense-evasion', 'attack.t1070'],
    detection: { selection: { 'objectRef.resource': 'events', verb: 'delete' }, condition: 'selection' },
  },
  {
    name: 'k8s_sh_sa_token',
    title: 'Service account token requested',
    level: 'low',
    tags: ['attack.credential-access', 'attack.t1528'],
    detection: {
      selection: {
        'objectRef.resource': 'serviceaccounts',
        'objectRef.subresource': 'token',
        verb: 'create',
      },
      condition: 'selection',
    },
  },
  {
    name: 'k8s_sh_cronjob_change',
    title: 'CronJob created or modified',
    level: 'medium',
    tags: ['attack.persistence', 'attack.t1053.007'],
    detection: {
      selection: { 'objectRef.resource': 'cronjobs', verb: ['create', 'update', 'patch'] },
      condition: 'selection',
    },
  },
  {
    name: 'k8s_sh_webhook_change',
    title: 'Admission webhook configuration changed',
    level: 'high',
    tags: ['attack.persistence', 'attack.t1546'],
    detection: {
      selection: {
        'objectRef.resource': ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
        verb: ['create', 'update', 'patch', 'delete'],
      },
      condition: 'selection',
    },
  },
  {
    name: 'k8s_sh_privileged_pod',
    title: 'Privileged pod created',
    level: 'high',
    tags: ['attack.privilege-escalation', 'attack.t1611'],
    detection: {
      selection: {
        'objectRef.resource': 'pods',
        verb: 'create',
        'requestObject.spec.containers.securityContext.privileged': 'true',
      },
      condition: 'selection',
    },
  },
  {
    name: 'k8s_sh_hostpath',
    title: 'Pod mounting a host path',
    level: 'medium',
    tags: ['attack.privilege-escalation', 'attack.t1611'],
    detection: {
      selection: { 'objectRef.resource': 'pods', verb: 'create' },
      hostpath: { 'requestObject.spec.volumes.hostPath|exists': true },
      condition: 'selection and hostpath',
    },
  },
  {
    name: 'k8s_sh_node_proxy',
    title: 'Node proxy used',
    level: 'medium',
    tags: ['attack.lateral-movement'],
    detection: {
      selection: { 'objectRef.resource': 'nodes', 'objectRef.subresource': 'proxy' },
      condition: 'selection',
    },
  },
  {
    name: 'k8s_sh_kube_system_workload',
    title: 'Workload created in kube-system',
    level: 'medium',
    tags: ['attack.persistence', 'attack.t1610'],
    detection: {
      selection: {
        'objectRef.namespace': 'kube-system',
        'objectRef.resource': ['deployments', 'daemonsets', 'pods'],
        verb: 'create',
        ...ALLOWED,
      },
      filter: { 'user.username|startswith': 'system:' },
      condition: 'selection and not filter',
    },
  },
  {
    name: 'k8s_sh_netpol_deleted',
    title: 'Network policy deleted',
    level: 'medium',
    tags: ['attack.defense-evasion', 'attack.t1562'],
    detection: {
      selection: { 'objectRef.resource': 'networkpolicies', verb: 'delete' },
      condition: 'selection',
    },
  },
  {
    name: 'k8s_sh_unusual_client',
    title: 'API used by a scripting client',
    level: 'low',
    tags: ['attack.execution'],
    detection: {
      selection: { 'userAgent|contains': ['python-requests', 'curl/', 'Go-http-client'], ...ALLOWED },
      condition: 'selection',
    },
  },
]

export function k8sRuleYaml(rule: K8sRule, id: string): string {
  return stringify(
    {
      title: rule.title,
      id,
      status: 'test',
      description: `${rule.title} (purplekind benchmark, Kubernetes set).`,
      author: 'purplekind bench',
      date: '2026-01-12',
      tags: rule.tags,
      logsource: { product: 'kubernetes', service: 'audit' },
      detection: rule.detection,
      falsepositives: ['Cluster administrators'],
      level: rule.level,
    },
    { lineWidth: 0 },
  )
}
