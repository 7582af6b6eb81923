// sweep against a real apiserver. sweep is provider-independent; it runs here on the local lab (real
// kube-apiserver + kcm) because kind cannot run on every machine. Docker sweeping is left out on purpose:
// it would remove every managed container on the engine, including other runs'.
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExistingProvider } from '../../src/lab/existing/index.js'
import { labPaths } from '../../src/lab/local/config.js'
import { labDir, localProvider } from '../../src/lab/local/index.js'
import type { Lab } from '../../src/lab/provider.js'
import { labelsFor } from '../../src/lab/safety.js'
import { sweep } from '../../src/lab/sweep.js'

const NAME = 'sweeptest'
const log = (line: string) => console.log(`[kind-sweep] ${line}`)
const availability = await localProvider.available()
if (!availability.ok)
  console.log(`[kind-sweep] SKIPPED: the local lab cannot run here: ${availability.reason}`)

describe.skipIf(!availability.ok)('sweep (live, local lab)', () => {
  let lab: Lab
  let api: KubernetesObjectApi
  const managed = labelsFor('sweep-run-1')

  const exists = async (apiVersion: string, kind: string, name: string, namespace?: string) => {
    try {
      const obj = await api.read({
        apiVersion,
        kind,
        metadata: { name, ...(namespace ? { namespace } : {}) },
      })
      // A namespace being finalized counts as removed: the namespace controller is finishing the delete.
      return (obj as { status?: { phase?: string } }).status?.phase !== 'Terminating'
    } catch (error) {
      if ((error as { code?: number }).code === 404) return false
      throw error
    }
  }

  beforeAll(async () => {
    lab = await localProvider.up({ name: NAME, log })
    const kc = new KubeConfig()
    kc.loadFromFile(lab.kubeconfig)
    kc.setCurrentContext(lab.context)
    api = KubernetesObjectApi.makeApiClient(kc)
    const create = (
      apiVersion: string,
      kind: string,
      name: string,
      labels: Record<string, string>,
      extra = {},
    ) => api.create({ apiVersion, kind, metadata: { name, labels }, ...extra })
    await create('v1', 'Namespace', 'purplekind-sweep-ns', managed)
    await api.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'inside', namespace: 'purplekind-sweep-ns', labels: managed },
    })
    await create('rbac.authorization.k8s.io/v1', 'ClusterRole', 'purplekind-sweep-reader', managed, {
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }],
    })
    await api.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'purplekind-stray', namespace: 'default', labels: managed },
    })
    await api.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'not-ours', namespace: 'default' },
    })
  })

  afterAll(async () => {
    if (lab) await localProvider.down({ name: NAME, log })
  })

  it('dry run reports managed objects without deleting them', async () => {
    const report = await sweep({ kubeconfig: lab.kubeconfig, context: lab.context, dryRun: true })
    const names = report.removed.map((i) => `${i.kind}/${i.namespace ?? ''}/${i.name}`)
    expect(names).toEqual(
      expect.arrayContaining([
        'Namespace//purplekind-sweep-ns',
        'ClusterRole//purplekind-sweep-reader',
        'Secret/default/purplekind-stray',
      ]),
    )
    expect(names).not.toContain('Secret/purplekind-sweep-ns/inside') // goes with its namespace
    expect(names.some((n) => n.endsWith('/not-ours'))).toBe(false)
    expect(await exists('v1', 'Secret', 'purplekind-stray', 'default')).toBe(true)
  })

  it('olderThanMs spares objects younger than the cut-off', async () => {
    const report = await sweep({
      kubeconfig: lab.kubeconfig,
      context: lab.context,
      dryRun: true,
      olderThanMs: 3_600_000,
    })
    expect(report.removed.filter((i) => i.name.includes('sweep'))).toEqual([])
  })

  it('deletes every managed object and nothing else', async () => {
    const report = await sweep({ kubeconfig: lab.kubeconfig, context: lab.context, dryRun: false })
    expect(report.failed).toEqual([])
    expect(await exists('v1', 'Namespace', 'purplekind-sweep-ns')).toBe(false)
    expect(await exists('rbac.authorization.k8s.io/v1', 'ClusterRole', 'purplekind-sweep-reader')).toBe(false)
    expect(await exists('v1', 'Secret', 'purplekind-stray', 'default')).toBe(false)
    expect(await exists('v1', 'Secret', 'not-ours', 'default')).toBe(true)
  })

  // The existing-cluster preflight, against a real apiserver: the Audit-ID probe must come back in the log.
  it('existing provider: preflight passes with the audit log and the shipped policy, refuses without allow', async () => {
    const paths = labPaths(labDir(NAME))
    const options = { kubeconfig: lab.kubeconfig, context: lab.context, audit: { logFile: paths.auditLog } }
    await expect(
      createExistingProvider({ ...options, allowContexts: [] }).up({ name: NAME, log }),
    ).rejects.toMatchObject({
      code: 'PURPLE_CONTEXT_REFUSED',
    })
    const provider = createExistingProvider({
      ...options,
      allowContexts: [lab.context],
      policyFile: paths.auditPolicy,
    })
    const existing = await provider.up({ name: NAME, log })
    expect(provider.lastPreflight().map((c) => [c.name, c.ok])).toEqual([
      ['apiserver', true],
      ['audit', true],
      ['audit policy', true],
    ])
    expect(existing.decoys).toEqual({}) // no IMDS decoy on a cluster we did not build
  })
})
