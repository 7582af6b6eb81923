// The Docker Engine's own records: its event stream and its API access log.
import type { TelemetryEvent } from '../event.js'
import { getField } from '../event.js'
import { type ActionTrace, defineSource, str } from '../source.js'
import { normalizeDockerApi, parseDaemonLogLine } from '../sources/docker-api.js'
import { normalizeDockerEvent } from '../sources/docker-events.js'

// A docker step's records: any engine record in its window, or (when the command names objects) the
// ones that mention them.
function byDockerTargets(e: TelemetryEvent, a: ActionTrace): boolean {
  if (a.tool !== 'docker') return false
  if (!a.targets?.length) return true
  const text = JSON.stringify(e.raw)
  return a.targets.some((t) => text.includes(t))
}

export const dockerEventsSource = defineSource({
  name: 'docker-events',
  normalize: normalizeDockerEvent,
  sniff: (r) =>
    (r.Type !== undefined && r.Action !== undefined) || (r.status !== undefined && r.id !== undefined),
  attribute: byDockerTargets,
  excerpt: (e) =>
    `${str(getField(e, 'Type'))} ${str(getField(e, 'Action'))} ${str(getField(e, 'Actor.Attributes.name'))}`,
  logsources: [{ product: 'docker', service: ['events'] }],
})

export const dockerApiSource = defineSource({
  name: 'docker-api',
  normalize: normalizeDockerApi,
  parseText: parseDaemonLogLine,
  sniff: (r) => (r.method !== undefined && r.path !== undefined) || String(r.msg).startsWith('Calling '),
  attribute: byDockerTargets,
  excerpt: (e) =>
    `${str(getField(e, 'method'))} ${str(getField(e, 'path'))}${getField(e, 'status') ? ` → ${str(getField(e, 'status'))}` : ''}`,
  logsources: [{ product: 'docker', service: ['api'] }],
})
