import type { TelemetryEvent } from '../../event.js'
import { invalid, isoTime, type NormalizeContext, optionalString, toEvent } from '../common.js'

/**
 * One request a cloud decoy served: `{time, decoy, method, path, status, service?, action?, credential?,
 * canary?, userAgent?}`. `credential` is the id the caller presented (an AWS access key id, an Azure
 * client id), never a secret; `canary` says it is one of the run's planted credentials.
 */
export function normalizeDecoyAccess(
  record: Record<string, unknown>,
  ctx?: NormalizeContext,
): TelemetryEvent[] {
  const decoy = optionalString(record, 'decoy')
  if (!decoy) throw invalid('decoy-access', ctx, "field 'decoy' must be a string (aws, azure or imds)")
  const method = optionalString(record, 'method')
  const path = optionalString(record, 'path')
  if (method === undefined || path === undefined)
    throw invalid('decoy-access', ctx, "fields 'method' and 'path' must be strings")
  if (record.canary !== undefined && typeof record.canary !== 'boolean')
    throw invalid('decoy-access', ctx, "field 'canary' must be true or false")
  const { time, timeMs } = isoTime(record.time, 'time', 'decoy-access', ctx)
  return [toEvent('decoy-access', { time, timeMs, raw: { ...record }, derived: {} }, ctx)]
}
