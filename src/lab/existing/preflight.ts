// Preflight for a cluster the harness did not create: before any procedure runs, prove that the apiserver
// answers and that its audit trail reaches us and covers what the procedures do. Otherwise every action
// would end as NOT_LOGGED for the wrong reason.
import { randomUUID } from 'node:crypto'
import { PurpleError } from '../../errors.js'
import type { KubeApi } from '../../kube/api.js'
import type { TelemetryEvent } from '../../telemetry/event.js'
import type { TelemetryCollector } from '../provider.js'
import { assertNotCloudCluster, type NodeLike } from '../safety.js'
import { type AuditPolicy, coverageGaps } from './policy.js'

/** Namespace the probe request names; it need not exist (a 404 is audited like any other request). */
export const PROBE_NAMESPACE = 'purplekind-preflight'

export interface PreflightCheck {
  name: string
  ok: boolean
  detail: string
  /** How to fix a failed check. */
  fix?: string
}

export interface PreflightOptions {
  /** The cluster's apiserver, as the harness will talk to it during the run. */
  api: KubeApi
  context: string
  audit: TelemetryCollector
  policy?: AuditPolicy
  policyFile?: string
  probeTimeoutMs: number
  iKnowThisIsNotALab?: boolean
}

/** Runs every check, then throws PURPLE_PREFLIGHT_FAILED listing all that failed (not just the first). */
export async function preflight(options: PreflightOptions): Promise<PreflightCheck[]> {
  const checks: PreflightCheck[] = []
  const version = await checkApiserver(options.api)
  checks.push(version)
  if (version.ok) {
    await refuseCloudCluster(options)
    checks.push(await checkAuditProbe(options))
  }
  checks.push(checkPolicy(options))
  assertPreflight(options.context, checks)
  return checks
}

export function assertPreflight(context: string, checks: readonly PreflightCheck[]): void {
  const failed = checks.filter((c) => !c.ok)
  if (failed.length === 0) return
  const lines = failed.map((c) => `- ${c.name}: ${c.detail}${c.fix ? `\n  fix: ${c.fix}` : ''}`)
  throw new PurpleError(
    'PURPLE_PREFLIGHT_FAILED',
    `context '${context}' is not ready for a run:\n${lines.join('\n')}`,
    {
      hint: 'docs/kind.md "existing clusters" lists what the harness needs from an existing cluster',
    },
  )
}

async function checkApiserver(api: KubeApi): Promise<PreflightCheck> {
  const server = api.server
  try {
    const v = (await api.must('GET', '/version')).body as { gitVersion?: unknown } | undefined
    const version = typeof v?.gitVersion === 'string' ? v.gitVersion.slice(0, 64) : 'version unknown'
    return { name: 'apiserver', ok: true, detail: `${server} answers (${version})` }
  } catch (error) {
    return {
      name: 'apiserver',
      ok: false,
      detail: `${server} does not answer /version: ${(error as Error).message}`,
      fix: 'check the kubeconfig context, credentials and network path to the apiserver',
    }
  }
}

async function refuseCloudCluster(options: PreflightOptions): Promise<void> {
  let nodes: NodeLike[]
  try {
    const list = (await options.api.must('GET', '/api/v1/nodes')).body as { items?: unknown }
    if (!Array.isArray(list?.items)) throw new Error('the node list has no items')
    nodes = list.items.map(nodeLike)
  } catch (cause) {
    if (options.iKnowThisIsNotALab) return
    throw new PurpleError(
      'PURPLE_CONTEXT_REFUSED',
      `cannot list nodes of '${options.context}' to rule out a cloud cluster`,
      {
        cause,
        hint: 'grant list on nodes, or pass --i-know-this-is-not-a-lab',
      },
    )
  }
  assertNotCloudCluster(options.context, nodes, options.iKnowThisIsNotALab)
}

/** The node fields the cloud check reads, keeping only values of the right type (the cluster is not ours). */
function nodeLike(item: unknown): NodeLike {
  const node = item as { metadata?: { name?: unknown; labels?: unknown }; spec?: { providerID?: unknown } }
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const labels = node?.metadata?.labels
  const name = text(node?.metadata?.name)
  const providerID = text(node?.spec?.providerID)
  return {
    metadata: {
      ...(name ? { name } : {}),
      ...(labels && typeof labels === 'object' ? { labels: labels as Record<string, string> } : {}),
    },
    ...(providerID ? { spec: { providerID } } : {}),
  }
}

/** Sends a get on a nonexistent secret with a unique Audit-ID and waits for its audit event. */
async function checkAuditProbe(options: PreflightOptions): Promise<PreflightCheck> {
  const auditId = randomUUID()
  const waiting = waitForAuditId(options.audit, auditId, options.probeTimeoutMs)
  try {
    await options.api.request(
      'GET',
      `/api/v1/namespaces/${PROBE_NAMESPACE}/secrets/purplekind-probe`,
      undefined,
      {
        auditID: auditId,
        userAgent: 'purplekind-preflight',
        timeoutMs: 10_000,
      },
    )
  } catch (error) {
    waiting.cancel()
    return { name: 'audit', ok: false, detail: `probe request failed: ${(error as Error).message}` }
  }
  if (await waiting.result) {
    return { name: 'audit', ok: true, detail: `probe ${auditId} (get secret) arrived` }
  }
  return {
    name: 'audit',
    ok: false,
    detail: `no audit event for probe ${auditId} (get secret in ${PROBE_NAMESPACE}) within ${options.probeTimeoutMs} ms`,
    fix: "point --audit-log at the apiserver's --audit-log-path, or its --audit-webhook-config-file at the receiver; the policy must log secrets at Metadata or above",
  }
}

/** Resolves true once `collector` delivers an event with `auditId`, false after `timeoutMs`. */
export function waitForAuditId(
  collector: TelemetryCollector,
  auditId: string,
  timeoutMs: number,
): { result: Promise<boolean>; cancel: () => void } {
  let finish: (found: boolean) => void = () => {}
  const result = new Promise<boolean>((resolve) => {
    finish = resolve
  })
  const timer = setTimeout(() => finish(false), timeoutMs)
  const sink = (event: TelemetryEvent) => {
    if (event.auditID === auditId) finish(true)
  }
  const started = collector.start(sink).catch(() => finish(false))
  const settled = result.finally(async () => {
    clearTimeout(timer)
    await started
    await collector.stop()
  })
  return { result: settled, cancel: () => finish(false) }
}

function checkPolicy(options: PreflightOptions): PreflightCheck {
  if (!options.policy) {
    return {
      name: 'audit policy',
      ok: true,
      detail: 'no policy file given: secrets coverage proven by the probe; pods/exec coverage not verified',
    }
  }
  const gaps = coverageGaps(options.policy)
  if (gaps.length === 0) {
    return { name: 'audit policy', ok: true, detail: `${options.policyFile} logs secrets and pods/exec` }
  }
  return {
    name: 'audit policy',
    ok: false,
    detail: `${options.policyFile}: ${gaps.join('; ')}`,
    fix: 'add a rule logging secrets at Metadata and pods/exec at Request before any None rule (see lab/audit-policy.yaml)',
  }
}
