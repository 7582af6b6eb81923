import { PurpleError } from '../errors.js'
import { type KubeApi, resourcePath } from '../kube/api.js'
import type { Canaries } from '../lab/decoys/canaries.js'
import type { Lab } from '../lab/provider.js'
import { RUN_LABEL } from '../lab/provider.js'
import { labelsFor } from '../lab/safety.js'
import type { Scenario } from '../scenario/load.js'
import type { Setup } from '../scenario/schema.js'

export type CanaryKind = 'aws' | 'azure' | 'db-password' | 'token'

/** The Secret data a canary kind puts in a lab secret (values are the run's canaries). */
export function canaryData(kind: CanaryKind, c: Canaries): Record<string, string> {
  switch (kind) {
    case 'aws':
      return { AWS_ACCESS_KEY_ID: c.awsAccessKeyId, AWS_SECRET_ACCESS_KEY: c.awsSecretAccessKey }
    case 'azure':
      return {
        AZURE_TENANT_ID: c.azureTenantId,
        AZURE_CLIENT_ID: c.azureClientId,
        AZURE_CLIENT_SECRET: c.azureClientSecret,
      }
    case 'db-password':
      return { username: 'payments', password: c.dbPassword }
    case 'token':
      return { token: c.awsSessionToken }
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')

/**
 * Creates what a scenario's setup declares, every object labelled with the run id, in dependency order.
 * `deleteKubeObjects` undoes it by label, so it also cleans up after a partial setup.
 */
export async function applyKubeSetup(
  api: KubeApi,
  lab: Lab,
  scenario: Scenario,
  runId: string,
  canaries: Canaries,
): Promise<void> {
  const s: Setup = scenario.setup
  const labels = labelsFor(runId)
  const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), labels })
  for (const ns of s.namespaces) {
    await api.must(
      'POST',
      '/api/v1/namespaces',
      { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns) },
      [409],
    )
    await waitForDefaultAccount(api, ns)
  }
  for (const sa of s.serviceAccounts) {
    await api.must(
      'POST',
      resourcePath('serviceaccounts', sa.namespace),
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(sa.name, sa.namespace) },
      [409],
    )
  }
  for (const r of s.roles) {
    const cluster = !r.namespace
    const kind = cluster ? 'ClusterRole' : 'Role'
    const name = cluster ? `purplekind-${r.name}` : r.name
    await api.must(
      'POST',
      resourcePath(cluster ? 'clusterroles' : 'roles', r.namespace),
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: meta(name, r.namespace), rules: r.rules },
      [409],
    )
    await api.must(
      'POST',
      resourcePath(cluster ? 'clusterrolebindings' : 'rolebindings', r.namespace),
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: `${kind}Binding`,
        metadata: meta(name, r.namespace),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name },
        subjects: r.subjects.map((sub) =>
          sub.kind === 'ServiceAccount'
            ? { kind: 'ServiceAccount', name: sub.name, namespace: sub.namespace ?? r.namespace }
            : { kind: sub.kind, name: sub.name, apiGroup: 'rbac.authorization.k8s.io' },
        ),
      },
      [409],
    )
  }
  for (const sec of s.secrets) {
    const data = Object.fromEntries(
      Object.entries(canaryData(sec.canary, canaries)).map(([k, v]) => [k, b64(v)]),
    )
    await api.must(
      'POST',
      resourcePath('secrets', sec.namespace),
      { apiVersion: 'v1', kind: 'Secret', metadata: meta(sec.name, sec.namespace), type: 'Opaque', data },
      [409],
    )
  }
  for (const pod of s.pods) {
    await api.must(
      'POST',
      resourcePath('pods', pod.namespace),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta(pod.name, pod.namespace),
        spec: {
          ...(lab.capabilities.realPods ? {} : { nodeName: lab.manifest.node ?? 'purplekind-node' }),
          serviceAccountName: pod.serviceAccount ?? 'default',
          containers: [
            {
              name: 'app',
              image: lab.podTemplate?.image ?? 'purplekind/toolbox:1',
              imagePullPolicy: 'Never',
              command: lab.podTemplate?.command ?? ['/bin/sh', '-c', 'sleep 3600'],
              env: [
                ...Object.entries(lab.podTemplate?.env ?? {}).map(([name, value]) => ({ name, value })),
                ...(pod.mountSecrets ?? []).map((name) => ({
                  name: `SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`,
                  valueFrom: { secretKeyRef: { name, key: 'password', optional: true } },
                })),
              ],
              ...(lab.podTemplate ? { volumeMounts: lab.podTemplate.volumeMounts } : {}),
            },
          ],
          ...(lab.podTemplate ? { volumes: lab.podTemplate.volumes } : {}),
          // A quick stop: the pods only sleep, and namespace deletion waits for them.
          terminationGracePeriodSeconds: 1,
          tolerations: [{ operator: 'Exists' }],
        },
      },
      [409],
    )
  }
  for (const np of s.networkPolicies) {
    await api.must(
      'POST',
      `/apis/networking.k8s.io/v1/namespaces/${np.namespace}/networkpolicies`,
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta(np.name, np.namespace),
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: np.denyEgressTo } }] }],
        },
      },
      [409],
    )
  }
  for (const pod of s.pods) await waitForPodRunning(api, pod.namespace, pod.name)
}

async function waitForDefaultAccount(api: KubeApi, ns: string): Promise<void> {
  // kube-controller-manager creates the default ServiceAccount shortly after the namespace.
  for (let i = 0; i < 50; i++) {
    const r = await api.request('GET', resourcePath('serviceaccounts', ns, 'default'))
    if (r.status === 200) return
    await sleep(200)
  }
}

async function waitForPodRunning(api: KubeApi, ns: string, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let phase = 'unknown'
  while (Date.now() < deadline) {
    const r = await api.request('GET', resourcePath('pods', ns, name))
    phase = ((r.body as { status?: { phase?: string } })?.status?.phase as string) ?? 'unknown'
    if (phase === 'Running') return
    await sleep(300)
  }
  throw new PurpleError(
    'PURPLE_LAB_FAILED',
    `pod ${ns}/${name} not Running after ${timeoutMs / 1000}s (phase ${phase})`,
  )
}

/**
 * Deletes every object of the run, by label: cluster-scoped RBAC, then namespaces, and waits until the
 * namespaces are gone, so the next scenario can create namespaces of the same name.
 */
export async function deleteKubeObjects(api: KubeApi, runId: string, timeoutMs = 45_000): Promise<string[]> {
  const selector = encodeURIComponent(`${RUN_LABEL}=${runId}`)
  const removed: string[] = []
  const list = async (kind: string) =>
    (
      (await api.request('GET', `${resourcePath(kind)}?labelSelector=${selector}`)).body as {
        items?: { metadata: { name: string } }[]
      }
    )?.items ?? []
  for (const kind of ['clusterrolebindings', 'clusterroles', 'namespaces']) {
    for (const it of await list(kind)) {
      await api.request('DELETE', resourcePath(kind, undefined, it.metadata.name))
      removed.push(`${kind}/${it.metadata.name}`)
    }
  }
  const deadline = Date.now() + timeoutMs
  while ((await list('namespaces')).length) {
    if (Date.now() > deadline)
      throw new PurpleError(
        'PURPLE_LAB_FAILED',
        `namespaces of run ${runId} still terminating after ${timeoutMs / 1000}s`,
        {
          hint: 'purplekind sweep removes leftovers',
        },
      )
    await sleep(250)
  }
  return removed
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
