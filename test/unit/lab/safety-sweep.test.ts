// sweep (src/lab/sweep.ts): what gets deleted, and that it refuses non-lab contexts before listing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { MANAGED_SELECTOR } from '../../../src/lab/safety.js'
import { planSweep, SWEPT_KINDS, type SweepItem, sweep } from '../../../src/lab/sweep.js'

const now = Date.parse('2026-11-27T12:00:00Z')
const hoursAgo = (h: number) => now - h * 3600_000

describe('planSweep', () => {
  const inventory: SweepItem[] = [
    { kind: 'Namespace', name: 'purplekind-r1', createdMs: hoursAgo(5) },
    { kind: 'Pod', name: 'victim', namespace: 'purplekind-r1', createdMs: hoursAgo(5) },
    { kind: 'ClusterRoleBinding', name: 'purplekind-r1-reader', createdMs: hoursAgo(5) },
    { kind: 'Secret', name: 'stray', namespace: 'default', createdMs: hoursAgo(5) },
    { kind: 'Namespace', name: 'purplekind-r2', createdMs: hoursAgo(0.1) },
    { kind: 'Pod', name: 'victim', namespace: 'purplekind-r2', createdMs: hoursAgo(0.1) },
    { kind: 'docker/container', name: 'purplekind-r1-victim', createdMs: hoursAgo(5) },
    { kind: 'docker/network', name: 'purplekind-lab' },
  ]

  it('deletes namespaces whole (not their contents one by one), plus stray managed objects', () => {
    const plan = planSweep(inventory, { now })
    expect(plan.map((i) => `${i.kind}/${i.namespace ?? ''}/${i.name}`)).toEqual([
      'Namespace//purplekind-r1',
      'ClusterRoleBinding//purplekind-r1-reader',
      'Secret/default/stray',
      'Namespace//purplekind-r2',
      'docker/container//purplekind-r1-victim',
      'docker/network//purplekind-lab',
    ])
  })

  it('spares objects younger than olderThanMs (a concurrent run) and objects of unknown age', () => {
    const plan = planSweep(inventory, { now, olderThanMs: 3600_000 })
    const names = plan.map((i) => `${i.kind}/${i.namespace ?? ''}/${i.name}`)
    expect(names).toContain('Namespace//purplekind-r1')
    expect(names).not.toContain('Namespace//purplekind-r2')
    // r2's namespace survives, so its pod is neither deleted by the namespace nor on its own.
    expect(names).not.toContain('Pod/purplekind-r2/victim')
    expect(names).not.toContain('docker/network//purplekind-lab')
  })
})

describe('sweep selectors', () => {
  it('lists only objects labelled purplekind.io/managed=true', () => {
    expect(MANAGED_SELECTOR).toBe('purplekind.io/managed=true')
  })

  it('covers namespaces, cluster RBAC and the namespaced kinds a run creates, cluster-scoped first', () => {
    const kinds = SWEPT_KINDS.map((k) => k.kind)
    expect(kinds.slice(0, 3)).toEqual(['Namespace', 'ClusterRoleBinding', 'ClusterRole'])
    for (const k of ['Pod', 'Secret', 'ServiceAccount', 'RoleBinding', 'Role', 'NetworkPolicy'])
      expect(kinds).toContain(k)
    expect(SWEPT_KINDS.filter((k) => !k.namespaced).map((k) => k.kind)).toEqual(kinds.slice(0, 3))
  })
})

describe('sweep guard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purplekind-sweep-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('refuses a non-lab context before contacting it', async () => {
    const file = join(dir, 'kc.yaml')
    // 192.0.2.1 is TEST-NET-1: nothing answers there, and the guard must refuse before trying.
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'prod', cluster: { server: 'https://192.0.2.1:6443' } }],
        users: [{ name: 'u', user: { token: 'x' } }],
        contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'u' } }],
        'current-context': 'prod',
      }),
    )
    await expect(sweep({ kubeconfig: file, context: 'prod', dryRun: true })).rejects.toMatchObject({
      code: 'PURPLE_CONTEXT_REFUSED',
    })
  })
})
