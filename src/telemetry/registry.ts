// The registry of telemetry sources: the one list every layer asks about a source (normalizing,
// auto-detection, step attribution, evidence, Sigma logsources). The type makes a descriptor for every
// name in SOURCES mandatory; defineSource makes each one complete.
import { containerLogsSource } from './descriptors/container-logs.js'
import { dockerApiSource, dockerEventsSource } from './descriptors/docker.js'
import { k8sAuditSource } from './descriptors/k8s-audit.js'
import { SOURCES, type SourceName } from './event.js'
import type { SourceDescriptor } from './source.js'
import { decoyAccessSource } from './sources/decoy-access/index.js'

export type { ActionTrace, AttributionContext, SourceDescriptor } from './source.js'

const REGISTRY: Readonly<Record<SourceName, SourceDescriptor>> = {
  'k8s-audit': k8sAuditSource,
  'decoy-access': decoyAccessSource,
  'docker-events': dockerEventsSource,
  'docker-api': dockerApiSource,
  'container-logs': containerLogsSource,
}

export function sourceDescriptor(name: SourceName): SourceDescriptor {
  return REGISTRY[name]
}

/** Every descriptor, in SOURCES order (the order `--source auto` tries them in). */
export function sourceDescriptors(): SourceDescriptor[] {
  return SOURCES.map((s) => REGISTRY[s])
}

/**
 * The sources a Sigma logsource means: `[]` for a product no source has (a rule for `windows` applies to
 * nothing here), `undefined` (every source) when there is no product or a known product with a service
 * or category no source declares.
 */
export function sourcesForLogsource(ls: {
  product?: string
  service?: string
  category?: string
}): SourceName[] | undefined {
  if (ls.product === undefined) return undefined
  const ofProduct = sourceDescriptors().flatMap((d) =>
    d.logsources.filter((l) => l.product === ls.product).map((l) => ({ d, l })),
  )
  if (!ofProduct.length) return []
  const hit = ofProduct.filter(
    ({ l }) =>
      (ls.service !== undefined && l.service?.includes(ls.service)) ||
      (ls.category !== undefined && l.category?.includes(ls.category)),
  )
  return hit.length ? [...new Set(hit.map(({ d }) => d.name))] : undefined
}
