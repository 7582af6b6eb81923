// The one normalized record every telemetry source produces. Rules read fields through `getField`,
// which resolves Splunk-style aliases and derived fields first, then a dotted path into the raw event.

// Registering a source: its name and sourcetype here, its descriptor in registry.ts. The order is the
// report's column order and the order `--source auto` tries (a more specific shape before a looser one).
export const SOURCES = ['k8s-audit', 'decoy-access', 'docker-events', 'docker-api', 'container-logs'] as const
export type SourceName = (typeof SOURCES)[number]

/** Splunk `sourcetype` each source is known by, so the seed's analytics run unchanged. */
export const SOURCETYPES: Record<SourceName, string> = {
  'k8s-audit': 'kubernetes:api',
  'docker-events': 'docker:events',
  'docker-api': 'docker:api',
  'container-logs': 'kubernetes:container',
  'decoy-access': 'purplekind:decoy',
}

export const DEFAULT_INDEX = 'containers'

export interface TelemetryEvent {
  readonly source: SourceName
  readonly sourcetype: string
  readonly index: string
  /** Event time (ISO 8601) as the source states it; `timeMs` is the same in epoch ms. */
  readonly time: string
  readonly timeMs: number
  /** The source's own record, untouched (for container logs: `{ container, stream, line, time }`). */
  readonly raw: Record<string, unknown>
  /** Derived and alias fields (e.g. `Command`, `action`, `container_name`), looked up before `raw`. */
  readonly derived: Readonly<Record<string, unknown>>
  /** Kubernetes audit ID when the source has one (the correlation key for API actions). */
  readonly auditID?: string
  /** Where the event was read from, for alerts and evidence. */
  readonly origin?: { readonly file: string; readonly line: number }
}

const MISSING = undefined

/**
 * Resolves `path` on an event: first the derived/alias fields and the envelope fields
 * (`source`, `sourcetype`, `index`, `_time`), then a dotted path into `raw`. Keys that themselves
 * contain dots (e.g. `annotations.authorization.k8s.io/decision`) are found by trying the longest key
 * first. Returns `undefined` when the field is absent.
 */
export function getField(event: TelemetryEvent, path: string): unknown {
  if (path in event.derived) return event.derived[path]
  switch (path) {
    case 'source':
      return event.source
    case 'sourcetype':
      return event.sourcetype
    case 'index':
      return event.index
    case '_time':
      return event.time
  }
  return getPath(event.raw, path)
}

/** Dotted-path lookup with longest-key-first matching; arrays are searched element-wise. */
export function getPath(value: unknown, path: string): unknown {
  if (value === null || typeof value !== 'object') return MISSING
  if (Array.isArray(value)) {
    const hits: unknown[] = []
    for (const item of value) {
      const v = getPath(item, path)
      if (v === MISSING) continue
      if (Array.isArray(v)) hits.push(...v)
      else hits.push(v)
    }
    return hits.length ? hits : MISSING
  }
  const obj = value as Record<string, unknown>
  if (Object.hasOwn(obj, path)) return obj[path]
  // Try the longest prefix that is a key, then recurse on the rest.
  let dot = path.lastIndexOf('.')
  while (dot > 0) {
    const head = path.slice(0, dot)
    if (Object.hasOwn(obj, head)) {
      const v = getPath(obj[head], path.slice(dot + 1))
      if (v !== MISSING) return v
    }
    dot = path.lastIndexOf('.', dot - 1)
  }
  return MISSING
}
