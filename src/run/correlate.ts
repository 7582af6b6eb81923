import type { SourceName, TelemetryEvent } from '../telemetry/event.js'
import { getField } from '../telemetry/event.js'
import { CREDENTIAL_ID_EXTRA } from './client-cert.js'
import type { CorrelationMethod } from './result.js'

/** What correlation needs to know about an action (a subset of ActionRecord, also stored in recordings). */
export interface ActionTrace {
  tool: string
  identity: string
  sentAt: number
  endedAt: number
  auditIDs: string[]
  marker?: string
  /** Docker object names the command names (to tie docker-api/docker-events records to it). */
  targets?: string[]
}

/**
 * Window slack. Events are stamped by the same host clock after the client sent the request, so nothing
 * of this action is older than `sentAt` (a few ms for rounding); the tail covers the final stages.
 */
const BEFORE_MS = 10
const AFTER_MS = 1500

/**
 * Picks the telemetry that an action caused. Strongest evidence first: the Audit-ID the harness sent,
 * then a marker the action carried (impersonation extra), then time window + actor. Harness traffic
 * (`ignoreAuditIDs`) never counts.
 */
export function correlate(
  action: ActionTrace,
  events: readonly TelemetryEvent[],
  ignoreAuditIDs: ReadonlySet<string>,
): { events: TelemetryEvent[]; method: CorrelationMethod } {
  // With an exact key, there is no fallback: anything else in the window belongs to other actions.
  if (action.auditIDs.length) {
    const ids = new Set(action.auditIDs)
    const hit = events.filter((e) => e.auditID !== undefined && ids.has(e.auditID))
    return hit.length ? { events: hit, method: 'audit-id' } : { events: [], method: 'none' }
  }
  if (action.marker) {
    const marker = action.marker
    const hit = events.filter((e) => e.source === 'k8s-audit' && hasMarker(e, marker))
    if (hit.length) return { events: hit, method: 'marker' }
    // A token's JTI is recorded only by apiservers that track token ids; elsewhere, the window.
    if (!marker.startsWith('JTI=')) return { events: [], method: 'none' }
  }
  const from = action.sentAt - BEFORE_MS
  const to = action.endedAt + AFTER_MS
  const inWindow = events.filter((e) => e.timeMs >= from && e.timeMs <= to)
  const hit = inWindow.filter((e) => attributable(e, action, ignoreAuditIDs))
  return hit.length ? { events: hit, method: 'window' } : { events: [], method: 'none' }
}

/** The step's marker: its client certificate's credential id, or (impersonation) the step extra. */
function hasMarker(e: TelemetryEvent, marker: string): boolean {
  const has = (v: unknown) => (Array.isArray(v) ? v.includes(marker) : v === marker)
  const user = getField(e, 'user.extra') as Record<string, unknown> | undefined
  if (has(user?.[CREDENTIAL_ID_EXTRA])) return true
  const extra = getField(e, 'impersonatedUser.extra') as Record<string, unknown> | undefined
  return has(extra?.['purplekind.io/step'])
}

function attributable(e: TelemetryEvent, a: ActionTrace, ignore: ReadonlySet<string>): boolean {
  switch (e.source as SourceName) {
    case 'k8s-audit': {
      if (e.auditID && ignore.has(e.auditID)) return false
      const who = (getField(e, 'impersonatedUser.username') ?? getField(e, 'user.username')) as
        | string
        | undefined
      return who === a.identity
    }
    case 'docker-api':
    case 'docker-events': {
      if (a.tool !== 'docker') return false
      if (!a.targets?.length) return true
      const text = JSON.stringify(e.raw)
      return a.targets.some((t) => text.includes(t))
    }
    default:
      return false
  }
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
