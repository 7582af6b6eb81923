// Turns one record of any telemetry source into normalized TelemetryEvents (see docs/telemetry.md).
import type { SourceName, TelemetryEvent } from './event.js'
import { sourceDescriptor, sourceDescriptors } from './registry.js'
import { invalid, isObject, type NormalizeContext } from './sources/common.js'

export type { NormalizeContext } from './sources/common.js'

/**
 * Every name a normalizer may put in `derived`. Such names shadow raw fields, so detection engines
 * must not prefilter on them (their values need not appear in the raw line).
 */
export const DERIVED_FIELDS: ReadonlySet<string> = new Set([
  'Command',
  'action',
  'container_name',
  'image',
  'container',
  'user',
])

// One record → its events (an audit EventList gives one per item; a non-API daemon log line none).
export function normalize(
  source: SourceName,
  record: Record<string, unknown>,
  ctx?: NormalizeContext,
): TelemetryEvent[] {
  return sourceDescriptor(source).normalize(record, ctx)
}

// One line of an events file → its events; blank lines give none. Throws PURPLE_EVENTS_INVALID at file:line.
export function parseLine(text: string, source: SourceName, ctx?: NormalizeContext): TelemetryEvent[] {
  const line = text.trim()
  if (line === '') return []
  if (line.startsWith('{')) {
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch (error) {
      throw invalid(source, ctx, `line is not valid JSON (${(error as Error).message})`)
    }
    if (!isObject(record)) throw invalid(source, ctx, 'line is not a JSON object')
    return normalize(source, record, ctx)
  }
  const parseText = sourceDescriptor(source).parseText
  if (parseText) {
    const fields = parseText(line)
    if (fields) return normalize(source, fields, ctx)
    throw invalid(source, ctx, 'line is neither JSON nor a dockerd `time="…" level=… msg="…"` log line')
  }
  throw invalid(source, ctx, 'line is not a JSON object')
}

/** Guesses the source of an events file from its first non-empty line (for `--source auto`). */
export function detectSource(text: string): SourceName | undefined {
  const first = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '')
  if (first === undefined) return undefined
  const record = parseObject(first) ?? (first === '{' ? parseObject(text) : undefined)
  if (record) return sourceDescriptors().find((d) => d.sniff(record))?.name
  return sourceDescriptors().find((d) => d.parseText?.(first))?.name
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}
