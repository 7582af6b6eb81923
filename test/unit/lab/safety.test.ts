import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { PurpleError } from '../../../src/errors.js'
import {
  assertNotCloudCluster,
  assertSafeContext,
  cloudNodeEvidence,
  inCidr,
  labelsFor,
  MANAGED_LABEL,
  RUN_LABEL,
  runSelector,
} from '../../../src/lab/safety.js'

const dir = mkdtempSync(join(tmpdir(), 'purplekind-safety-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Writes a kubeconfig with one context per entry (context name → server URL). */
function kubeconfig(contexts: Record<string, string>, current?: string): string {
  const names = Object.keys(contexts)
  const file = join(dir, `kc-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: names.map((n) => ({ name: n, cluster: { server: contexts[n] } })),
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: names.map((n) => ({ name: n, context: { cluster: n, user: 'u' } })),
      'current-context': current ?? names[0],
    }),
  )
  return file
}

function refusal(fn: () => unknown): PurpleError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(PurpleError)
    return error as PurpleError
  }
  throw new Error('expected a refusal')
}

describe('assertSafeContext', () => {
  const accepted: [string, string, string[]?][] = [
    ['purplekind-local', 'https://127.0.0.1:6443'],
    ['kind-purplekind', 'https://127.0.0.1:39123'],
    ['kind-purplekind-ci', 'https://localhost:39123'],
    ['kind-purplekind-ci', 'https://[::1]:39123'],
    ['kind-purplekind-ci', 'https://172.19.0.2:6443', ['172.19.0.0/16']],
  ]
  for (const [context, server, networks] of accepted) {
    it(`accepts lab ${context} at ${server}`, () => {
      const file = kubeconfig({ [context]: server })
      expect(assertSafeContext({ kubeconfig: file, context, labNetworks: networks ?? [] })).toEqual({
        context,
        server,
        reason: 'lab',
      })
    })
  }

  const refused: [string, string, RegExp][] = [
    ['prod-eks', 'https://ABC.gr7.us-east-1.eks.amazonaws.com', /not a purplekind lab/],
    ['kind-kind', 'https://127.0.0.1:6443', /not a purplekind lab/],
    ['my-purplekind-cluster', 'https://127.0.0.1:6443', /not a purplekind lab/],
    ['purplekind-spoof', 'https://10.0.0.5:6443', /neither loopback nor a purplekind docker network/],
    ['kind-purplekind', 'https://172.19.0.2:6443', /neither loopback/], // network not registered as a lab network
    ['purplekind-spoof', 'https://127.0.0.1.nip.io:6443', /neither loopback/],
  ]
  for (const [context, server, message] of refused) {
    it(`refuses ${context} at ${server}`, () => {
      const err = refusal(() => assertSafeContext({ kubeconfig: kubeconfig({ [context]: server }), context }))
      expect(err.code).toBe('PURPLE_CONTEXT_REFUSED')
      expect(err.message).toMatch(message)
      expect(err.hint).toContain(`--allow-context ${context}`)
    })
  }

  it('accepts any context the user allowed by exact name, and only that one', () => {
    const file = kubeconfig({ staging: 'https://10.0.0.5:6443', prod: 'https://10.0.0.6:6443' })
    expect(
      assertSafeContext({ kubeconfig: file, context: 'staging', allowContexts: ['staging'] }).reason,
    ).toBe('allowed')
    expect(
      refusal(() => assertSafeContext({ kubeconfig: file, context: 'prod', allowContexts: ['staging'] }))
        .code,
    ).toBe('PURPLE_CONTEXT_REFUSED')
  })

  it('uses the current-context when none is given, and accepts registry-known lab names', () => {
    const file = kubeconfig({ other: 'https://127.0.0.1:1', mylab: 'https://127.0.0.1:2' }, 'mylab')
    expect(() => assertSafeContext({ kubeconfig: file })).toThrow(/'mylab' is not a purplekind lab/)
    expect(assertSafeContext({ kubeconfig: file, labContexts: ['mylab'] }).context).toBe('mylab')
  })

  it('refuses an unknown context and reports a missing kubeconfig', () => {
    const file = kubeconfig({ 'purplekind-a': 'https://127.0.0.1:1' })
    expect(() => assertSafeContext({ kubeconfig: file, context: 'nope' })).toThrow(
      /context 'nope' is not defined in/,
    )
    const missing = refusal(() => assertSafeContext({ kubeconfig: join(dir, 'absent.yaml') }))
    expect(missing.code).toBe('PURPLE_INPUT_NOT_FOUND')
  })
})

describe('cloud clusters', () => {
  const eks = { metadata: { name: 'ip-10-0-1-2', labels: { 'eks.amazonaws.com/nodegroup': 'ng' } } }
  const gke = { metadata: { name: 'gke-1' }, spec: { providerID: 'gce://proj/zone/gke-1' } }
  const aks = { metadata: { name: 'aks-1', labels: { 'kubernetes.azure.com/cluster': 'c' } } }
  const kind = {
    metadata: { name: 'purplekind-control-plane', labels: { 'kubernetes.io/os': 'linux' } },
    spec: { providerID: 'kind://docker/purplekind/purplekind-control-plane' },
  }

  it('finds EKS, GKE and AKS evidence but none on a kind node', () => {
    expect(cloudNodeEvidence([eks, gke, aks, kind])).toEqual([
      'ip-10-0-1-2: label eks.amazonaws.com/nodegroup',
      'gke-1: providerID gce://proj/zone/gke-1',
      'aks-1: label kubernetes.azure.com/cluster',
    ])
  })

  it('refuses a cloud cluster even when allowed, unless explicitly overridden', () => {
    expect(() => assertNotCloudCluster('prod', [kind, eks])).toThrow(/cloud-managed cluster/)
    expect(() => assertNotCloudCluster('prod', [kind, eks], true)).not.toThrow()
    expect(() => assertNotCloudCluster('lab', [kind])).not.toThrow()
  })
})

describe('labels', () => {
  it('labels run objects as managed and owned by the run', () => {
    expect(labelsFor('r-20261127-1')).toEqual({ [MANAGED_LABEL]: 'true', [RUN_LABEL]: 'r-20261127-1' })
    expect(runSelector('r1')).toBe('purplekind.io/managed=true,purplekind.io/run=r1')
  })

  it('rejects run ids that are not label values', () => {
    expect(() => labelsFor('has space')).toThrow(/not a valid Kubernetes label value/)
    expect(() => labelsFor('x'.repeat(64))).toThrow(/not a valid Kubernetes label value/)
  })
})

describe('inCidr', () => {
  it('matches IPv4 addresses against CIDRs', () => {
    expect(inCidr('172.19.255.254', '172.19.0.0/16')).toBe(true)
    expect(inCidr('172.20.0.1', '172.19.0.0/16')).toBe(false)
    expect(inCidr('127.255.0.1', '127.0.0.0/8')).toBe(true)
    expect(inCidr('10.0.0.1', '0.0.0.0/0')).toBe(true)
    expect(inCidr('10.0.0.1', 'garbage')).toBe(false)
  })
})
