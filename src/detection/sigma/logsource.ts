// Sigma `logsource` → the harness's telemetry sources. A rule for another product (`windows`, `aws`…)
// applies to none of them; one without a product, or a kubernetes/docker one whose service we do not
// map, applies to every source (the rule's own fields then decide).
import type { SourceName } from '../../telemetry/event.js'
import { type Issues, isRecord } from './issues.js'

const CONTAINER_LOGS = new Set(['container_logs', 'container'])

export function mapLogsource(logsource: unknown, issues: Issues): SourceName[] | undefined {
  if (logsource === undefined || logsource === null) return undefined
  if (!isRecord(logsource)) {
    issues.add('logsource', 'logsource must be a map')
    return undefined
  }
  const read = (key: string): string | undefined => {
    const v = logsource[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string') {
      issues.add(`logsource.${key}`, 'must be a string')
      return undefined
    }
    return v.toLowerCase()
  }
  const product = read('product')
  const service = read('service')
  const category = read('category')
  if (product === 'kubernetes' && (service === 'audit' || category === 'audit')) return ['k8s-audit']
  if (product === 'docker' && service === 'events') return ['docker-events']
  if (product === 'docker' && service === 'api') return ['docker-api']
  if (
    (product === 'kubernetes' || product === 'docker') &&
    ((service !== undefined && CONTAINER_LOGS.has(service)) || category === 'container_logs')
  ) {
    return ['container-logs']
  }
  if (product !== undefined && product !== 'kubernetes' && product !== 'docker') return []
  return undefined
}
