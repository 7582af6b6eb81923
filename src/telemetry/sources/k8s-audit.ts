import { commandList, queryValues } from '../command.js'
import type { TelemetryEvent } from '../event.js'
import {
  invalid,
  isObject,
  isoTime,
  type NormalizeContext,
  type Normalized,
  optionalString,
  toEvent,
} from './common.js'

// An audit.k8s.io/v1 Event, or an EventList (the webhook body) → one event per item.
export function normalizeK8sAudit(record: Record<string, unknown>, ctx?: NormalizeContext): TelemetryEvent[] {
  if (record.kind === 'EventList') {
    const items = record.items
    if (!Array.isArray(items)) throw invalid('k8s-audit', ctx, "EventList field 'items' must be an array")
    return items.map((item, i) => {
      if (!isObject(item)) throw invalid('k8s-audit', ctx, `EventList items[${i}] must be an object`)
      return toEvent('k8s-audit', auditEvent(item, ctx, `items[${i}].`), ctx)
    })
  }
  if (record.kind !== undefined && record.kind !== 'Event') {
    throw invalid(
      'k8s-audit',
      ctx,
      `field 'kind' must be Event or EventList, got ${JSON.stringify(record.kind)}`,
    )
  }
  return [toEvent('k8s-audit', auditEvent(record, ctx, ''), ctx)]
}

function auditEvent(
  item: Record<string, unknown>,
  ctx: NormalizeContext | undefined,
  at: string,
): Normalized {
  const auditID = optionalString(item, 'auditID')
  if (!auditID) throw invalid('k8s-audit', ctx, `field '${at}auditID' is missing`)
  const stamp = item.stageTimestamp !== undefined ? 'stageTimestamp' : 'requestReceivedTimestamp'
  if (item[stamp] === undefined) throw invalid('k8s-audit', ctx, `field '${at}stageTimestamp' is missing`)
  const { time, timeMs } = isoTime(item[stamp], at + stamp, 'k8s-audit', ctx)
  const command = auditCommand(item)
  return { time, timeMs, raw: item, derived: command.length ? { Command: command } : {}, auditID }
}

/** The Command list an audit event implies (see the derivation table in docs/telemetry.md). */
export function auditCommand(item: Record<string, unknown>): string[] {
  const ref = isObject(item.objectRef) ? item.objectRef : {}
  const resource = optionalString(ref, 'resource')
  const sub = optionalString(ref, 'subresource')
  const name = optionalString(ref, 'name')
  const verb = optionalString(item, 'verb')
  const byKubectl = optionalString(item, 'userAgent')?.startsWith('kubectl/') === true
  const kubectl = (short: string) => (byKubectl ? short : undefined)

  if (resource === 'pods' && sub === 'exec') {
    const argv = queryValues(optionalString(item, 'requestURI') ?? '', 'command').join(' ')
    return commandList(kubectl('kubectl exec'), name, argv)
  }
  if (resource === 'pods' && sub === 'log' && verb === 'get')
    return commandList(kubectl('kubectl logs'), name)
  if (resource === 'secrets' && sub === undefined) {
    if (verb === 'list') return commandList(kubectl('kubectl get secrets'))
    // `kubectl describe secret X` also sends (two) plain gets: the two are indistinguishable here.
    if (verb === 'get') return commandList(kubectl('kubectl get secret'), name)
  }
  return []
}
