import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  checkAvailable,
  type KindProbes,
  kindClusterName,
  kindLabFiles,
  pickNodeImage,
} from '../../../../src/lab/kind/index.js'

// Fake probes: kind cannot run on this machine, so availability logic is driven by stand-ins.
function fakeProbes(over: Partial<{ kind: string; docker: string; images: string[] }> = {}): KindProbes {
  const v = { kind: 'kind v0.33.0', docker: '28.2.2', images: ['kindest/node:v1.36.4'], ...over }
  return {
    kindVersion: async () => v.kind || undefined,
    dockerVersion: async () => v.docker || undefined,
    nodeImages: async () => v.images,
  }
}

describe('kindClusterName', () => {
  it('prefixes purplekind- so the context guard recognises kind-purplekind-…', () => {
    expect(kindClusterName('lab')).toBe('purplekind-lab')
    expect(kindClusterName('purplekind')).toBe('purplekind')
    expect(kindClusterName('purplekind-ci')).toBe('purplekind-ci')
  })

  it('rejects names kind cannot use', () => {
    expect(() => kindClusterName('Bad_Name')).toThrow(/cannot name a kind cluster/)
    expect(() => kindClusterName('x'.repeat(40))).toThrow(/cannot name a kind cluster/)
  })
})

describe('checkAvailable', () => {
  it('is available with kind, a Docker Engine and a local node image', async () => {
    expect(await checkAvailable(fakeProbes())).toEqual({ ok: true })
  })

  it('names the first missing piece precisely', async () => {
    expect((await checkAvailable(fakeProbes({ kind: '' }))).reason).toMatch(/^kind not found/)
    expect((await checkAvailable(fakeProbes({ docker: '' }))).reason).toMatch(/^no Docker Engine answers/)
    const noImage = await checkAvailable(fakeProbes({ images: [] }))
    expect(noImage.ok).toBe(false)
    expect(noImage.reason).toMatch(/no kind node image present locally .*purplekind never pulls/)
  })
})

describe('kindLabFiles', () => {
  const services = {
    audit: {
      url: 'https://172.19.0.1:41000/audit',
      caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      token: 'secret-token',
      collector: { source: 'k8s-audit' as const, start: async () => {}, stop: async () => {} },
    },
    imds: { host: '172.19.0.1', port: 41001 },
    cloudRelays: { aws: 41002, azure: 41003 },
  }

  it('lays out the lab dir: kind config mounting the webhook kubeconfig, IMDS script for the decoy', () => {
    const files = kindLabFiles({
      cluster: 'purplekind-t',
      dir: '/state/purplekind-t',
      services,
      auditPolicyPath: '/p.yaml',
    })
    const node = parse(files.kindConfig.content).nodes[0]
    const mounted = node.extraMounts.map((m: { hostPath: string }) => m.hostPath)
    expect(mounted).toEqual([
      '/p.yaml',
      files.webhookConfig.path,
      files.logDir,
      files.podLogDir,
      files.podFilesDir,
    ])
    // The per-run pod files are read-only inside the node.
    expect(node.extraMounts[4]).toMatchObject({ containerPath: '/etc/purplekind/pod-files', readOnly: true })
    expect(parse(files.webhookConfig.content).clusters[0].cluster.server).toBe(services.audit.url)
    expect(files.webhookConfig.mode).toBe(0o600) // it carries the bearer token
    expect(files.guardScript.content).toContain('dnat to 172.19.0.1:41001')
    expect(files.guardScript.content).toContain('tcp dport { 41001, 41002, 41003 } accept')
    expect(files.kubeconfig).toBe('/state/purplekind-t/kubeconfig')
  })

  it('points kubeadm at our own etcd and CoreDNS tags, and applies host patches only when asked', () => {
    const plain = parse(kindLabFiles({ cluster: 'purplekind-t', dir: '/s', services }).kindConfig.content)
    expect(plain.kubeadmConfigPatches).toBeUndefined()
    expect(plain.containerdConfigPatches).toBeUndefined()
    const ours = parse(
      kindLabFiles({
        cluster: 'purplekind-t',
        dir: '/s',
        services,
        purplekindImage: true,
        host: { cgroupV1: true, restrictOomScoreAdj: true },
      }).kindConfig.content,
    )
    expect(ours.networking).toMatchObject({ disableDefaultCNI: true, kubeProxyMode: 'nftables' })
    const cluster = parse(ours.nodes[0].kubeadmConfigPatches[0])
    expect(cluster.etcd.local).toEqual({ imageRepository: 'purplekind.local', imageTag: 'v3.6.16' })
    expect(cluster.dns).toEqual({ imageRepository: 'purplekind.local', imageTag: 'v1.15.0' })
    expect(ours.kubeadmConfigPatches.map((p: string) => parse(p).kind)).toEqual([
      'InitConfiguration',
      'KubeletConfiguration',
    ])
    expect(ours.containerdConfigPatches[0]).toContain('restrict_oom_score_adj = true')
  })

  it('defaults the audit policy to lab/audit-policy.yaml in the package', () => {
    const files = kindLabFiles({ cluster: 'purplekind-t', dir: '/s', services })
    expect(files.auditPolicy).toMatch(/\/lab\/audit-policy\.yaml$/)
    expect(existsSync(files.auditPolicy)).toBe(true)
  })
})

describe('pickNodeImage', () => {
  it("prefers purplekind's own build for our Kubernetes version", () => {
    expect(
      pickNodeImage([
        'kindest/node:v1.36.4',
        'purplekind/node:v1.36.3-0123456789ab',
        'purplekind/node:v1.36.3',
      ]),
    ).toBe('purplekind/node:v1.36.3-0123456789ab')
  })

  it('prefers a local image of the pinned Kubernetes minor, else the first local one', () => {
    expect(pickNodeImage(['kindest/node:v1.35.8', 'kindest/node:v1.36.4'])).toBe('kindest/node:v1.36.4')
    expect(pickNodeImage(['kindest/node:v1.35.8'])).toBe('kindest/node:v1.35.8')
  })

  it('never falls back to a pull', () => {
    expect(() => pickNodeImage([])).toThrow(/no kind node image present locally/)
  })
})
