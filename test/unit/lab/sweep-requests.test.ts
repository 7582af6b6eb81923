// What sweep sends to the apiserver, through the one client: labelled lists of every swept kind, one
// DELETE per object with background propagation, an already-gone object not counted, a nameless one
// never turned into a collection delete. A fake apiserver (loopback, real TLS) answers; the live sweep
// test (test/live/kind-sweep.test.ts) runs the same code against a real one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sweep } from '../../../src/lab/sweep.js'
import { type FakeApiserver, startFakeApiserver } from '../kube/fake-apiserver.js'

const RUN = { 'purplekind.io/managed': 'true', 'purplekind.io/run': 'r1' }
const LISTS: Record<string, unknown[]> = {
  '/api/v1/namespaces': [{ metadata: { name: 'purplekind-r1', labels: RUN } }],
  '/api/v1/secrets': [
    { metadata: { name: 'inside', namespace: 'purplekind-r1', labels: RUN } },
    { metadata: { name: 'stray', namespace: 'default', labels: RUN } },
    { metadata: { name: 'gone', namespace: 'default', labels: RUN } },
  ],
  '/apis/rbac.authorization.k8s.io/v1/clusterroles': [{ metadata: { labels: RUN } }],
}

let api: FakeApiserver
let kubeconfig: string
beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const [p = ''] = req.url.split('?')
    if (req.method === 'GET') return { status: 200, body: { kind: 'List', items: LISTS[p] ?? [] } }
    if (req.method === 'DELETE') return { status: p.endsWith('/gone') ? 404 : 200 }
    return { status: 405 }
  })
  kubeconfig = await api.kubeconfig('purplekind-sweeptest')
}, 60_000)
afterAll(() => api?.close())

describe('sweep through the apiserver client', () => {
  it('a dry run only lists: every swept kind, by the run-objects selector, each with an Audit-ID', async () => {
    api.seen.length = 0
    const report = await sweep({ kubeconfig, context: 'purplekind-sweeptest', dryRun: true })
    expect(api.seen.every((r) => r.method === 'GET')).toBe(true)
    expect(api.seen).toHaveLength(11)
    for (const r of api.seen) {
      expect(r.url).toMatch(/\?labelSelector=purplekind.io%2Fmanaged%3Dtrue%2Cpurplekind.io%2Frun$/)
      expect(r.auditID).toMatch(/^[0-9a-f-]{36}$/)
    }
    expect(api.seen.map((r) => r.url.split('?')[0])).toContain('/apis/networking.k8s.io/v1/networkpolicies')
    expect(report.removed.map((i) => `${i.kind}/${i.namespace ?? ''}/${i.name}`)).toEqual([
      'Namespace//purplekind-r1',
      'ClusterRole//',
      'Secret/default/stray',
      'Secret/default/gone',
    ])
  })

  it('deletes each object in the background; a 404 is not counted, a nameless object fails alone', async () => {
    api.seen.length = 0
    const report = await sweep({ kubeconfig, context: 'purplekind-sweeptest', dryRun: false })
    const deletes = api.seen.filter((r) => r.method === 'DELETE')
    expect(deletes.map((r) => r.url)).toEqual([
      '/api/v1/namespaces/purplekind-r1',
      '/api/v1/namespaces/default/secrets/stray',
      '/api/v1/namespaces/default/secrets/gone',
    ])
    for (const r of deletes)
      expect(r.body).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' })
    expect(report.removed.map((i) => i.name)).toEqual(['purplekind-r1', 'stray'])
    expect(report.failed).toEqual([
      { item: { kind: 'ClusterRole', name: '', runId: 'r1' }, error: expect.stringMatching(/has no name/) },
    ])
  })

  it('a list the apiserver refuses is PURPLE_COMMAND_FAILED naming the kind and the status', async () => {
    const refusing = await startFakeApiserver(() => ({ status: 403, body: { message: 'forbidden: no' } }))
    try {
      const file = await refusing.kubeconfig('purplekind-sweeptest')
      await expect(
        sweep({ kubeconfig: file, context: 'purplekind-sweeptest', dryRun: true }),
      ).rejects.toMatchObject({
        code: 'PURPLE_COMMAND_FAILED',
        message: expect.stringMatching(/^sweep: cannot list Namespace objects .*HTTP 403: forbidden: no/),
      })
    } finally {
      await refusing.close()
    }
  }, 60_000)
})
