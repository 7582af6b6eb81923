import type { TelemetryEvent } from '../event.js'
import { invalid, isoTime, type NormalizeContext, optionalString, toEvent } from './common.js'

// A container log line: `{time, container, stream, log}` or Docker's json-file `{log, stream, time}`
// (container from ctx). The raw record is reshaped to the contract's `{container, stream, line, time}`
// (other keys kept).
export function normalizeContainerLog(
  record: Record<string, unknown>,
  ctx?: NormalizeContext,
): TelemetryEvent[] {
  const text = optionalString(record, 'log') ?? optionalString(record, 'line')
  if (text === undefined) throw invalid('container-logs', ctx, "field 'log' (or 'line') must be a string")
  const container = optionalString(record, 'container') ?? ctx?.container
  if (!container) {
    throw invalid(
      'container-logs',
      ctx,
      "field 'container' is missing (json-file lines need the container name)",
    )
  }
  const { time, timeMs } = isoTime(record.time, 'time', 'container-logs', ctx)
  const stream = optionalString(record, 'stream') ?? 'stdout'
  // json-file keeps the line's trailing newline; the event holds the line itself.
  const line = text.endsWith('\n') ? text.slice(0, -1) : text
  // Extra keys (containerId, runId from the live collector) are kept; `log` becomes `line`.
  const { log: _log, ...rest } = record
  const raw = { ...rest, container, stream, line, time }
  return [toEvent('container-logs', { time, timeMs, raw, derived: { container_name: container } }, ctx)]
}
