// The existing-cluster preflight through the one apiserver client: /version, the node list (cloud check)
// and the audit probe, whose Audit-ID the audit trail must bring back. A fake apiserver (loopback, real
// TLS) answers, and a fake audit collector delivers the probe's event when the fake apiserver sees it.
import { afterAll, describe, expect, it } from 'vitest'
import { KubeApi } from '../../../../src/kube/api.js'
import { PROBE_NAMESPACE, preflight } from '../../../../src/lab/existing/preflight.js'
import { type FakeApiserver, type Recorded, startFakeApiserver } from '../../kube/fake-apiserver.js'
import { fakeCollector } from './fake-collector.js'

/** A FAKE audit trail: the event of every request the fake apiserver served, while started. */
function auditTrail() {
  const { collector, emit } = fakeCollector()
  return { collector, audit: (r: Recorded) => r.auditID && emit(r.auditID) }
}

const servers: FakeApiserver[] = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

async function cluster(o: { version?: number; nodes?: unknown; nodesStatus?: number; audited?: boolean }) {
  const trail = auditTrail()
  const server = await startFakeApiserver((r) => {
    if (o.audited !== false) setImmediate(() => trail.audit(r))
    if (r.url === '/version')
      return { status: o.version ?? 200, body: o.version ? undefined : { gitVersion: 'v1.36.3' } }
    if (r.url === '/api/v1/nodes') return { status: o.nodesStatus ?? 200, body: { items: o.nodes ?? [] } }
    return { status: 404 }
  })
  servers.push(server)
  const api = KubeApi.fromKubeconfig(await server.kubeconfig('staging'), 'staging')
  const run = (extra: { iKnowThisIsNotALab?: boolean } = {}) =>
    preflight({ api, context: 'staging', audit: trail.collector, probeTimeoutMs: 3000, ...extra })
  return { server, run }
}

describe('preflight through the apiserver client', () => {
  it('passes on a cluster that answers, is not a cloud cluster and audits the probe by its Audit-ID', async () => {
    const { server, run } = await cluster({ nodes: [{ metadata: { name: 'n1', labels: { a: 'b' } } }] })
    const checks = await run()
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['apiserver', true],
      ['audit', true],
      ['audit policy', true],
    ])
    expect(checks[0]?.detail).toMatch(/answers \(v1\.36\.3\)$/)
    const probe = server.seen.find((r) => r.url.includes('/secrets/'))
    expect(probe).toMatchObject({
      method: 'GET',
      url: `/api/v1/namespaces/${PROBE_NAMESPACE}/secrets/purplekind-probe`,
      userAgent: 'purplekind-preflight',
    })
    expect(checks[1]?.detail).toBe(`probe ${probe?.auditID} (get secret) arrived`)
    expect(server.seen.every((r) => r.auditID)).toBe(true)
  }, 60_000)

  it('fails the audit check when the probe’s event never arrives', async () => {
    const { run } = await cluster({ audited: false })
    await expect(run()).rejects.toMatchObject({
      code: 'PURPLE_PREFLIGHT_FAILED',
      message: expect.stringMatching(/- audit: no audit event for probe .* within 3000 ms/),
    })
  }, 60_000)

  it('names the apiserver’s refusal of /version', async () => {
    const { run } = await cluster({ version: 401 })
    await expect(run()).rejects.toMatchObject({
      code: 'PURPLE_PREFLIGHT_FAILED',
      message: expect.stringMatching(
        /- apiserver: https:\/\/127\.0\.0\.1:\d+\/ does not answer \/version: .*HTTP 401/,
      ),
    })
  }, 60_000)

  it('refuses a cloud cluster by its nodes, and ignores node fields of the wrong type', async () => {
    const eks = await cluster({
      nodes: [{ metadata: { name: 'ip-10-0-0-1' }, spec: { providerID: 'aws:///i-1' } }],
    })
    await expect(eks.run()).rejects.toMatchObject({ code: 'PURPLE_CONTEXT_REFUSED' })
    const odd = await cluster({
      nodes: [{ metadata: { name: 7, labels: 'x' }, spec: { providerID: 42 } }, null],
    })
    expect((await odd.run()).every((c) => c.ok)).toBe(true)
  }, 60_000)

  it('refuses when nodes cannot be listed, unless --i-know-this-is-not-a-lab', async () => {
    const { run } = await cluster({ nodesStatus: 403 })
    await expect(run()).rejects.toMatchObject({
      code: 'PURPLE_CONTEXT_REFUSED',
      message: "cannot list nodes of 'staging' to rule out a cloud cluster",
    })
    expect((await run({ iKnowThisIsNotALab: true })).every((c) => c.ok)).toBe(true)
  }, 60_000)
})
