import type { TelemetryEvent } from '../event.js'
import { type ActionTrace, defineSource, str } from '../source.js'
import { normalizeContainerLog } from '../sources/container-logs.js'

/**
 * A log line belongs to the step that names its container: a docker step by the container's name (the
 * `container` field, never the line's text, which the workload controls), a kubectl step by the pod
 * (`namespace/pod`, or `pod` when the command gave no namespace) on kind/CRI lines, which carry both.
 */
export function logLineOfStep(e: TelemetryEvent, a: ActionTrace): boolean {
  const targets = a.targets ?? []
  if (!targets.length) return false
  const raw = e.raw
  if (a.tool === 'docker') return typeof raw.container === 'string' && targets.includes(raw.container)
  if (a.tool === 'kubectl' && typeof raw.pod === 'string') {
    const ns = typeof raw.namespace === 'string' ? raw.namespace : ''
    return targets.includes(`${ns}/${raw.pod}`) || targets.includes(raw.pod)
  }
  return false
}

export const containerLogsSource = defineSource({
  name: 'container-logs',
  normalize: normalizeContainerLog,
  sniff: (r) => r.log !== undefined || (r.line !== undefined && r.stream !== undefined),
  attribute: logLineOfStep,
  excerpt: (e) => {
    const pod = typeof e.raw.pod === 'string' ? `${str(e.raw.namespace)}/${e.raw.pod}/` : ''
    return `${pod}${str(e.raw.container)}: ${str(e.raw.line).slice(0, 160)}`
  },
  logsources: [
    { product: 'docker', service: ['container_logs', 'container'], category: ['container_logs'] },
    { product: 'kubernetes', service: ['container_logs', 'container'], category: ['container_logs'] },
  ],
})
