// Builds realistic k8s-audit TelemetryEvents (shapes from the reference doc's audit examples).
import { parseSigma } from '../../../../src/detection/sigma/index.js'
import type { CompiledRule } from '../../../../src/detection/types.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'

export function auditEvent(
  raw: Record<string, unknown>,
  time = '2026-01-01T00:00:00.000000Z',
): TelemetryEvent {
  return {
    source: 'k8s-audit',
    sourcetype: 'kubernetes:api',
    index: 'containers',
    time,
    timeMs: Date.parse(time),
    raw,
    derived: {},
    ...(typeof raw.auditID === 'string' ? { auditID: raw.auditID } : {}),
  }
}

/** A copy of `event` at another time (ISO or seconds after 2026-01-01T00:00:00Z). */
export function at(event: TelemetryEvent, seconds: number): TelemetryEvent {
  const time = new Date(Date.parse('2026-01-01T00:00:00Z') + seconds * 1000).toISOString()
  return { ...event, time, timeMs: Date.parse(time) }
}

const ADMIN = {
  username: 'kubernetes-admin',
  groups: ['kubeadm:cluster-admins', 'system:authenticated'],
}

function base(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: '75ac6b1e-0d1c-4b8e-9a55-2f1b7c6d9e01',
    stage: 'ResponseComplete',
    user: ADMIN,
    sourceIPs: ['172.18.0.1'],
    userAgent: 'kubectl/v1.35.0 (linux/amd64) kubernetes/abcdef0',
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-01-01T00:00:00.000000Z',
    stageTimestamp: '2026-01-01T00:00:00.010000Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
    ...extra,
  }
}

/** `kubectl get secrets -n default` */
export const secretsList = (): Record<string, unknown> =>
  base({
    requestURI: '/api/v1/namespaces/default/secrets?limit=500',
    verb: 'list',
    objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' },
  })

/** One of the two gets of `kubectl describe secret canary-db -n t1552` */
export const secretGet = (): Record<string, unknown> =>
  base({
    requestURI: '/api/v1/namespaces/t1552/secrets/canary-db',
    verb: 'get',
    objectRef: { resource: 'secrets', namespace: 't1552', name: 'canary-db', apiVersion: 'v1' },
  })

/** `kubectl exec victim -- curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/` */
export const execImds = (): Record<string, unknown> =>
  base({
    level: 'Request',
    auditID: '4f6c0d2e-9a11-4c1b-8f3e-2b7d5c9e0a11',
    requestURI:
      '/api/v1/namespaces/t1552/pods/victim/exec?command=curl&command=-s&command=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2Fiam%2Fsecurity-credentials%2F&container=app&stderr=true&stdout=true',
    verb: 'get',
    objectRef: {
      resource: 'pods',
      namespace: 't1552',
      name: 'victim',
      apiVersion: 'v1',
      subresource: 'exec',
    },
    responseStatus: { metadata: {}, code: 101 },
  })

/** A benign look-alike: a service account listing configmaps. */
export const configmapListBySa = (): Record<string, unknown> =>
  base({
    requestURI: '/api/v1/namespaces/kube-system/configmaps?limit=500',
    verb: 'list',
    user: {
      username: 'system:serviceaccount:kube-system:coredns',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    },
    sourceIPs: ['10.244.0.3'],
    userAgent: 'coredns/v1.11.3 (linux/amd64) kubernetes/abcdef0',
    objectRef: { resource: 'configmaps', namespace: 'kube-system', apiVersion: 'v1' },
  })

/** A forbidden secret read from an IPv6 client. */
export const forbiddenSecretGet = (): Record<string, unknown> =>
  base({
    requestURI: '/api/v1/namespaces/t1552/secrets/canary-db',
    verb: 'get',
    user: { username: 'system:anonymous', groups: ['system:unauthenticated'] },
    sourceIPs: ['fd00:10:244::7'],
    objectRef: { resource: 'secrets', namespace: 't1552', name: 'canary-db', apiVersion: 'v1' },
    responseStatus: { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 },
    annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
  })

export const ALL_SAMPLES = { secretsList, secretGet, execImds, configmapListBySa, forbiddenSecretGet }

/** Compiles a single-rule Sigma document given only its detection section (YAML, indented 2). */
export function detectionRule(detection: string, extra = ''): CompiledRule {
  const text = `title: test rule\nid: test-rule\n${extra}detection:\n${indent(detection)}\n`
  const rules = parseSigma(text, 'rules/test.yml').rules
  if (rules.length !== 1) throw new Error('expected one rule')
  return rules[0]!
}

function indent(s: string): string {
  return s
    .replace(/^\n/, '')
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
}

/** Matches `detection` against one raw audit object. */
export function matches(detection: string, raw: Record<string, unknown>): boolean {
  return detectionRule(detection).match(auditEvent(raw))
}
