// Sigma `logsource` → the harness's telemetry sources, as each source declares them (telemetry/registry.ts).
// A rule for a product no source has (`windows`, `aws`…) applies to none of them; one without a product,
// or a known product with a service no source declares, applies to every source (its fields then decide).
import type { SourceName } from '../../telemetry/event.js'
import { sourcesForLogsource } from '../../telemetry/registry.js'
import { type Issues, isRecord } from './issues.js'

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
  return sourcesForLogsource({
    ...(product !== undefined ? { product } : {}),
    ...(service !== undefined ? { service } : {}),
    ...(category !== undefined ? { category } : {}),
  })
}
