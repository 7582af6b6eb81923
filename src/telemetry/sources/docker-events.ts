import type { TelemetryEvent } from '../event.js'
import { invalid, isObject, type NormalizeContext, optionalString, toEvent } from './common.js'

// A Docker engine /events message (API 1.41: Type, Action, Actor{ID, Attributes}, time, timeNano,
// plus the deprecated status/id/from). Engine events carry no user: no `user` alias is invented.
export function normalizeDockerEvent(
  record: Record<string, unknown>,
  ctx?: NormalizeContext,
): TelemetryEvent[] {
  const fullAction = optionalString(record, 'Action') ?? optionalString(record, 'status')
  if (fullAction === undefined) throw invalid('docker-events', ctx, "field 'Action' (or 'status') is missing")
  const timeMs = eventTimeMs(record, ctx)
  const actor = isObject(record.Actor) ? record.Actor : {}
  const attributes = isObject(actor.Attributes) ? actor.Attributes : {}
  const isContainer = (optionalString(record, 'Type') ?? 'container') === 'container'

  const colon = fullAction.indexOf(': ')
  const action = colon < 0 ? fullAction : fullAction.slice(0, colon)
  const derived: Record<string, unknown> = { action }
  if (isContainer) {
    const name = optionalString(attributes, 'name')
    const image = optionalString(attributes, 'image') ?? optionalString(record, 'from')
    if (name !== undefined) derived.container_name = name
    if (image !== undefined) derived.image = image
    if ((action === 'exec_create' || action === 'exec_start') && colon >= 0) {
      derived.Command = [fullAction.slice(colon + 2)]
    }
  }
  return [
    toEvent('docker-events', { time: new Date(timeMs).toISOString(), timeMs, raw: record, derived }, ctx),
  ]
}

// timeNano is preferred (ms precision survives JSON's float64); `time` is whole seconds.
function eventTimeMs(record: Record<string, unknown>, ctx: NormalizeContext | undefined): number {
  const { timeNano, time } = record
  if (typeof timeNano === 'number' && Number.isFinite(timeNano)) return Math.floor(timeNano / 1e6)
  if (typeof time === 'number' && Number.isFinite(time)) return time * 1000
  throw invalid('docker-events', ctx, "field 'timeNano' (or 'time') must be a number")
}
