import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { NODE_PATHS, renderKindConfig, renderWebhookKubeconfig } from '../../../../src/lab/kind/config.js'

const base = {
  name: 'purplekind-t',
  auditPolicyPath: '/repo/lab/audit-policy.yaml',
  webhookConfigPath: '/lab/audit-webhook.kubeconfig',
  logDir: '/lab/audit',
}

// biome-ignore lint/suspicious/noExplicitAny: walking parsed YAML
type Any = any

function controlPlane(yaml: string): Any {
  const cluster = parse(yaml)
  expect(cluster).toMatchObject({
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: 'purplekind-t',
  })
  expect(cluster.nodes).toHaveLength(1)
  return cluster.nodes[0]
}

describe('renderKindConfig', () => {
  it('mounts the audit policy, the webhook kubeconfig and a host log dir into the control plane', () => {
    const node = controlPlane(renderKindConfig(base))
    expect(node.role).toBe('control-plane')
    expect(node.extraMounts).toEqual([
      { hostPath: base.auditPolicyPath, containerPath: NODE_PATHS.auditPolicy, readOnly: true },
      { hostPath: base.webhookConfigPath, containerPath: NODE_PATHS.webhookConfig, readOnly: true },
      { hostPath: base.logDir, containerPath: NODE_PATHS.logDir },
    ])
  })

  it('patches the apiserver with audit log + batched (1 s) webhook flags and volumes for the mounted paths', () => {
    const node = controlPlane(renderKindConfig(base))
    expect(node.kubeadmConfigPatches).toHaveLength(1)
    const patch = parse(node.kubeadmConfigPatches[0])
    expect(patch.kind).toBe('ClusterConfiguration')
    expect(patch.apiVersion).toBeUndefined() // unversioned, so kind translates it for v1beta3 and v1beta4
    expect(patch.apiServer.extraArgs).toEqual({
      'audit-policy-file': NODE_PATHS.auditPolicy,
      'audit-log-path': NODE_PATHS.auditLog,
      'audit-log-format': 'json',
      'audit-webhook-config-file': NODE_PATHS.webhookConfig,
      'audit-webhook-mode': 'batch',
      'audit-webhook-batch-max-wait': '1s',
      'audit-webhook-initial-backoff': '1s',
    })
    const volumes = patch.apiServer.extraVolumes as Any[]
    // Every path the flags name must be inside a volume mounted into the apiserver pod.
    for (const path of [NODE_PATHS.auditPolicy, NODE_PATHS.webhookConfig, NODE_PATHS.auditLog]) {
      expect(volumes.some((v) => path.startsWith(`${v.mountPath}/`))).toBe(true)
    }
    expect(volumes.find((v) => v.mountPath === NODE_PATHS.logDir)?.readOnly).toBe(false)
    expect(volumes.find((v) => v.mountPath === NODE_PATHS.configDir)?.readOnly).toBe(true)
  })

  it('keeps kindnet (NetworkPolicy-enforcing) by default and a loopback apiserver address', () => {
    const cluster = parse(renderKindConfig(base))
    expect(cluster.networking).toEqual({ apiServerAddress: '127.0.0.1' })
  })

  it('disables the default CNI when another one is installed, and pins the node image', () => {
    const yaml = renderKindConfig({ ...base, cni: 'none', image: 'kindest/node:v1.36.4@sha256:abc' })
    expect(parse(yaml).networking.disableDefaultCNI).toBe(true)
    expect(controlPlane(yaml).image).toBe('kindest/node:v1.36.4@sha256:abc')
  })

  it('rejects relative host paths, naming the field', () => {
    expect(() => renderKindConfig({ ...base, logDir: 'audit' })).toThrow(/logDir must be an absolute path/)
  })
})

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

describe('renderWebhookKubeconfig', () => {
  it('points the apiserver at the receiver with the lab CA embedded and a bearer token', () => {
    const cfg = parse(
      renderWebhookKubeconfig({ server: 'https://172.19.0.1:43211/audit', caPem: CA, token: 't0k3n' }),
    )
    expect(cfg.kind).toBe('Config')
    const cluster = cfg.clusters[0].cluster
    expect(cluster.server).toBe('https://172.19.0.1:43211/audit')
    expect(Buffer.from(cluster['certificate-authority-data'], 'base64').toString()).toBe(CA)
    expect(cfg.users[0].user).toEqual({ token: 't0k3n' })
    const current = cfg.contexts.find((c: Any) => c.name === cfg['current-context'])
    expect(current.context).toEqual({ cluster: cfg.clusters[0].name, user: cfg.users[0].name })
  })

  it('refuses plain http, a non-PEM CA and an empty token', () => {
    expect(() =>
      renderWebhookKubeconfig({ server: 'http://172.19.0.1/audit', caPem: CA, token: 't' }),
    ).toThrow(/https/)
    expect(() => renderWebhookKubeconfig({ server: 'https://h/audit', caPem: 'nope', token: 't' })).toThrow(
      /PEM/,
    )
    expect(() => renderWebhookKubeconfig({ server: 'https://h/audit', caPem: CA, token: '' })).toThrow(
      /token/,
    )
  })
})
