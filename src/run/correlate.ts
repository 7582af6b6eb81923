import type { TelemetryEvent } from '../telemetry/event.js'
import { getField } from '../telemetry/event.js'
import { sourceDescriptor } from '../telemetry/registry.js'
import type { ActionTrace } from '../telemetry/source.js'
import { CREDENTIAL_ID_EXTRA } from './client-cert.js'
import type { CorrelationMethod } from './result.js'

export type { ActionTrace } from '../telemetry/source.js'

/**
 * Window slack. Events are stamped by the same host clock after the client sent the request, so nothing
 * of this action is older than `sentAt` (a few ms for rounding); the tail covers the final stages.
 */
const BEFORE_MS = 10
const AFTER_MS = 1500

/**
 * Picks the telemetry that an action caused. For the audit log, strongest evidence first: the Audit-ID
 * the harness sent, then a marker the action carried (credential id, impersonation extra), then time
 * window + actor; every other source by time window and its own attribution rule (registry.ts).
 * Harness traffic (`ignoreAuditIDs`) never counts.
 */
export function correlate(
  action: ActionTrace,
  events: readonly TelemetryEvent[],
  ignoreAuditIDs: ReadonlySet<string>,
): { events: TelemetryEvent[]; method: CorrelationMethod } {
  // An exact key (the Audit-ID sent, or the marker) decides the audit events: anything else of the audit
  // log in the window belongs to other actions. Other sources still count by window and their own rule.
  let exact: TelemetryEvent[] | undefined
  let method: CorrelationMethod = 'none'
  if (action.auditIDs.length) {
    const ids = new Set(action.auditIDs)
    exact = events.filter((e) => e.auditID !== undefined && ids.has(e.auditID))
    method = 'audit-id'
  } else if (action.marker) {
    const marker = action.marker
    exact = events.filter((e) => e.source === 'k8s-audit' && hasMarker(e, marker))
    method = 'marker'
    // A token's JTI is recorded only by apiservers that track token ids; elsewhere, the window.
    if (!exact.length && marker.startsWith('JTI=')) exact = undefined
  }
  const from = action.sentAt - BEFORE_MS
  const to = action.endedAt + AFTER_MS
  const inWindow = events.filter(
    (e) =>
      e.timeMs >= from &&
      e.timeMs <= to &&
      (exact === undefined || e.source !== 'k8s-audit') &&
      attributable(e, action, ignoreAuditIDs),
  )
  if (exact?.length) {
    const hit = inWindow.length ? [...exact, ...inWindow].sort((x, y) => x.timeMs - y.timeMs) : exact
    return { events: hit, method }
  }
  return inWindow.length ? { events: inWindow, method: 'window' } : { events: [], method: 'none' }
}

/** The step's marker: its client certificate's credential id, or (impersonation) the step extra. */
function hasMarker(e: TelemetryEvent, marker: string): boolean {
  const has = (v: unknown) => (Array.isArray(v) ? v.includes(marker) : v === marker)
  const user = getField(e, 'user.extra') as Record<string, unknown> | undefined
  if (has(user?.[CREDENTIAL_ID_EXTRA])) return true
  const extra = getField(e, 'impersonatedUser.extra') as Record<string, unknown> | undefined
  return has(extra?.['purplekind.io/step'])
}

// Each source says which of its events an action caused (a descriptor cannot be registered without it).
function attributable(e: TelemetryEvent, a: ActionTrace, ignore: ReadonlySet<string>): boolean {
  return sourceDescriptor(e.source).attribute(e, a, { ignoreAuditIDs: ignore })
}

/** Everything the harness itself sent, except the step's own API requests (`own`). */
export function harnessTraffic(sent: Iterable<string>, own: readonly string[]): Set<string> {
  const mine = new Set(own)
  return new Set([...sent].filter((id) => !mine.has(id)))
}

/** Docker CLI arguments that name objects (everything after the subcommand that is not a flag). */
export function dockerTargets(argv: readonly string[]): string[] {
  return argv.slice(2).filter((x) => !x.startsWith('-'))
}

const POD_SUBCOMMANDS = new Set(['exec', 'logs', 'attach', 'port-forward'])
/** kubectl flags whose value is the next argument (the rest are booleans or written `--flag=value`). */
const KUBECTL_VALUE_FLAGS = new Set([
  '-n',
  '--namespace',
  '-c',
  '--container',
  '--context',
  '--kubeconfig',
  '--as',
  '--as-group',
  '--token',
  '--since',
  '--tail',
  '-l',
  '--selector',
  '--pod-running-timeout',
])

/**
 * The pod a `kubectl exec|logs|attach|port-forward` names, as `namespace/pod` (or `pod` when the command
 * sets no namespace), so the pod's own log lines can be tied to the step.
 */
export function kubectlTargets(argv: readonly string[]): string[] {
  const args = argv.slice(1)
  const end = args.indexOf('--')
  const words = end === -1 ? args : args.slice(0, end)
  let namespace: string | undefined
  const positional: string[] = []
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    if (w === '-n' || w === '--namespace') namespace = words[i + 1]
    else if (w.startsWith('--namespace=')) namespace = w.slice('--namespace='.length)
    if (w.startsWith('-')) {
      if (KUBECTL_VALUE_FLAGS.has(w)) i++
      continue
    }
    positional.push(w)
  }
  const [sub, target] = positional
  if (!sub || !POD_SUBCOMMANDS.has(sub) || !target) return []
  const pod = target.startsWith('pod/')
    ? target.slice(4)
    : target.startsWith('pods/')
      ? target.slice(5)
      : target
  if (pod.includes('/')) return [] // deploy/x, svc/x: not one pod
  return [namespace ? `${namespace}/${pod}` : pod]
}
