import { commandList } from '../command.js'
import type { TelemetryEvent } from '../event.js'
import { invalid, isoTime, type NormalizeContext, optionalString, toEvent } from './common.js'

/**
 * One Docker Engine API call, as a logging proxy on the docker socket writes it
 * (`path` without the query string); the record format of the `docker-api` source.
 */
export interface DockerApiRecord {
  /** When the request head was complete (ISO 8601). */
  time: string
  method: string
  /** Request path as sent, including the version prefix (e.g. `/v1.41/containers/victim/logs`). */
  path: string
  /** Raw query string without `?`, when present. */
  query?: string
  /** Response status; absent when the connection closed before a response head. */
  status?: number
  /** The client's User-Agent (e.g. `Docker-Client/28.2.2 (linux)`), the only client identity on a unix socket. */
  client?: string
}

export function normalizeDockerApi(
  record: Record<string, unknown>,
  ctx?: NormalizeContext,
): TelemetryEvent[] {
  // A dockerd JSON-format log line (`--log-format json`) carries the call in `msg`.
  if (typeof record.msg === 'string' && record.path === undefined) {
    const call = apiCallFromDaemonLog(record, ctx)
    return call ? normalizeDockerApi({ ...call }, ctx) : []
  }
  const method = optionalString(record, 'method')
  const path = optionalString(record, 'path')
  if (!method) throw invalid('docker-api', ctx, "field 'method' must be a string")
  if (!path?.startsWith('/'))
    throw invalid('docker-api', ctx, "field 'path' must be a string starting with '/'")
  if (record.status !== undefined && typeof record.status !== 'number') {
    throw invalid('docker-api', ctx, "field 'status' must be a number")
  }
  const { time, timeMs } = isoTime(record.time, 'time', 'docker-api', ctx)
  return [
    toEvent(
      'docker-api',
      { time, timeMs, raw: record, derived: apiDerived(method, path, optionalString(record, 'container')) },
      ctx,
    ),
  ]
}

// `/v1.41/containers/victim/logs` → container `victim`, operation `logs`.
const CONTAINER_PATH = /^(?:\/v\d+\.\d+)?\/containers\/([^/]+)(?:\/([^/]+))?\/?$/
const NOT_A_CONTAINER = new Set(['json', 'create', 'prune'])

/** Aliases for one API call: `container_name`, and `Command` where the call maps to one docker CLI command. */
export function apiDerived(method: string, path: string, resolvedName?: string): Record<string, unknown> {
  const m = CONTAINER_PATH.exec(path)
  // The docker CLI addresses containers by id after resolving the name; the proxy records the name.
  const name = m?.[1] === undefined ? undefined : (resolvedName ?? safeDecode(m[1]))
  if (name === undefined || NOT_A_CONTAINER.has(name)) return {}
  const derived: Record<string, unknown> = { container_name: name }
  const op = `${method.toUpperCase()} ${m?.[2] ?? ''}`
  // Only calls that one CLI command alone makes: `docker logs`/`exec` also call inspect (GET …/json).
  if (op === 'GET logs') derived.Command = commandList('docker logs', name)
  if (op === 'POST exec') derived.Command = commandList('docker exec', name)
  return derived
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

const CALLING = /^Calling ([A-Z]+) (\/\S*)$/

// dockerd debug lines (`msg="Calling GET /v1.41/…"`) → the proxy record shape; other daemon lines → undefined.
function apiCallFromDaemonLog(
  fields: Record<string, unknown>,
  ctx: NormalizeContext | undefined,
): DockerApiRecord | undefined {
  const m = CALLING.exec(String(fields.msg))
  if (!m?.[1] || !m[2]) return undefined
  const { time } = isoTime(fields.time, 'time', 'docker-api', ctx)
  const q = m[2].indexOf('?')
  return q < 0
    ? { time, method: m[1], path: m[2] }
    : { time, method: m[1], path: m[2].slice(0, q), query: m[2].slice(q + 1) }
}

// logrus text format: key=value pairs, values Go-quoted when they contain spaces or quotes. Sticky, and
// tried only where the previous pair ended: scanning for the next match anywhere made hostile lines
// (many unterminated `k="`) quadratic.
const LOGFMT_PAIR = /\s*([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)/y

/** Parses one dockerd text log line into its fields, or undefined when it is not `key=value` text. */
export function parseDaemonLogLine(line: string): Record<string, unknown> | undefined {
  const fields: Record<string, unknown> = {}
  LOGFMT_PAIR.lastIndex = 0
  for (;;) {
    const at = LOGFMT_PAIR.lastIndex
    const m = LOGFMT_PAIR.exec(line)
    if (!m) {
      if (line.slice(at).trim() !== '') return undefined
      break
    }
    const value = m[2] ?? ''
    fields[m[1] ?? ''] = value.startsWith('"') ? unquoteGo(value) : value
    if (LOGFMT_PAIR.lastIndex === at) break
  }
  if (fields.time === undefined || fields.msg === undefined) return undefined
  return fields
}

// Go's strconv.Quote output is valid JSON for the escapes logrus emits (\" \\ \n \t \uXXXX).
function unquoteGo(quoted: string): string {
  try {
    return JSON.parse(quoted) as string
  } catch {
    return quoted.slice(1, -1)
  }
}
