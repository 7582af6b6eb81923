// Live telemetry from the Docker side of the lab: engine events, API calls (via the logging proxy) and
// the logs of lab-managed containers. Each collector hands normalized events to its sink.
import { PassThrough, type Readable } from 'node:stream'
import type Docker from 'dockerode'
import { PurpleError } from '../../errors.js'
import type { SourceName, TelemetryEvent } from '../../telemetry/event.js'
import { normalize } from '../../telemetry/normalize.js'
import { type LossReporter, MANAGED_LABEL, RUN_LABEL, type TelemetryCollector } from '../provider.js'
import type { DockerApiProxy } from './proxy.js'

/** `managed`: only containers carrying purplekind.io/managed=true (default); `all`: every engine event. */
export type EventScope = 'managed' | 'all'

/** The `container-logs` record: one line a container wrote. */
export interface ContainerLogRecord {
  time: string
  container: string
  stream: 'stdout' | 'stderr'
  log: string
  containerId: string
  runId?: string
}

type Sink = (event: TelemetryEvent) => void

/** Longest line a Docker stream may send; a longer one is skipped and reported. */
const MAX_LINE_CHARS = 1 << 20

const why = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300)

// A record that does not normalize is lost telemetry, reported — never an exception in a stream handler.
function deliver(
  source: SourceName,
  sink: Sink,
  record: Record<string, unknown>,
  lost: LossReporter | undefined,
): void {
  let events: TelemetryEvent[]
  try {
    events = normalize(source, record)
  } catch (err) {
    lost?.({ source, kind: 'unreadable', count: 1, reason: why(err) })
    return
  }
  for (const event of events) sink(event)
}

/** One JSON line from a Docker stream, or undefined (reported) when it is not a JSON object. */
function jsonLine(
  source: SourceName,
  line: string,
  lost: LossReporter | undefined,
): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line)
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
    lost?.({ source, kind: 'unreadable', count: 1, reason: 'a line is not a JSON object' })
  } catch {
    // The parser's message quotes the line, which may hold secrets: name the problem only.
    lost?.({ source, kind: 'unreadable', count: 1, reason: 'a line is not valid JSON' })
  }
  return undefined
}

/** Splits a byte stream into complete lines (a trailing partial line waits for the next chunk). */
function onLines(stream: Readable, handle: (line: string) => void, overlong?: () => void): void {
  let rest = ''
  stream.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n')
    rest = parts.pop() ?? ''
    if (rest.length > MAX_LINE_CHARS) {
      rest = ''
      overlong?.()
    }
    for (const line of parts) if (line.trim()) handle(line)
  })
  stream.on('end', () => {
    if (rest.trim()) handle(rest)
  })
}

const overlong = (source: SourceName, lost: LossReporter | undefined) => () =>
  lost?.({ source, kind: 'unreadable', count: 1, reason: `a line longer than ${MAX_LINE_CHARS} characters` })

function collectorError(source: SourceName, err: unknown): PurpleError {
  const message = err instanceof Error ? err.message : String(err)
  return new PurpleError('PURPLE_COLLECTOR_FAILED', `${source}: ${message}`, { cause: err })
}

/** Engine `/events` stream. The managed scope uses the engine's label filter, which container events match. */
export function dockerEventsCollector(
  docker: Docker,
  options: { scope?: EventScope } = {},
): TelemetryCollector {
  let stream: Readable | undefined
  return {
    source: 'docker-events',
    async start(sink, lost) {
      const filters = options.scope === 'all' ? {} : { label: [`${MANAGED_LABEL}=true`] }
      try {
        stream = (await docker.getEvents({ filters })) as Readable
      } catch (err) {
        throw collectorError('docker-events', err)
      }
      onLines(
        stream,
        (line) => {
          const record = jsonLine('docker-events', line, lost)
          if (record) deliver('docker-events', sink, record, lost)
        },
        overlong('docker-events', lost),
      )
    },
    async stop() {
      stream?.destroy()
      stream = undefined
    },
  }
}

/**
 * API calls observed by the logging proxy (the only source that sees `docker logs`). The docker CLI
 * addresses a container by name only for its first inspect and then by ID (`GET /containers/<id>/logs`),
 * so with `docker` given, each record gains `container` (the name) and `containerId`, resolved through
 * the engine; records keep their order.
 */
export function dockerApiCollector(
  proxy: DockerApiProxy,
  options: { docker?: Docker } = {},
): TelemetryCollector {
  let unsubscribe: (() => void) | undefined
  const names = new Map<string, Promise<{ id: string; name: string } | undefined>>()
  const resolve = (ref: string) => {
    let found = names.get(ref)
    if (!found) {
      found = options.docker
        ? options.docker
            .getContainer(ref)
            .inspect()
            .then((info) => ({ id: info.Id, name: info.Name.replace(/^\//, '') }))
            .catch(() => undefined)
        : Promise.resolve(undefined)
      names.set(ref, found)
    }
    return found
  }
  return {
    source: 'docker-api',
    async start(sink, lost) {
      let chain = Promise.resolve()
      unsubscribe ??= proxy.subscribe((record) => {
        const ref = CONTAINER_REF.exec(record.path)?.[1]
        chain = chain.then(async () => {
          const container =
            ref && !NOT_A_CONTAINER.has(ref) ? await resolve(decodeURIComponent(ref)) : undefined
          const enriched = container
            ? { ...record, container: container.name, containerId: container.id }
            : { ...record }
          deliver('docker-api', sink, enriched, lost)
        })
      })
    },
    async stop() {
      unsubscribe?.()
      unsubscribe = undefined
    },
  }
}

const CONTAINER_REF = /^(?:\/v\d+\.\d+)?\/containers\/([^/]+)/
const NOT_A_CONTAINER = new Set(['json', 'create', 'prune'])

/**
 * Follows the logs of every managed container (optionally of one run): those running at start and
 * those started later (found through `start` events). Logs are read from the container's beginning.
 */
export function containerLogsCollector(docker: Docker, options: { runId?: string } = {}): TelemetryCollector {
  const streams = new Set<Readable>()
  const following = new Set<string>()
  let events: Readable | undefined
  const label = options.runId ? `${RUN_LABEL}=${options.runId}` : `${MANAGED_LABEL}=true`

  const follow = async (id: string, sink: Sink, lost: LossReporter | undefined) => {
    if (following.has(id)) return
    following.add(id)
    const container = docker.getContainer(id)
    const info = await container.inspect()
    const name = info.Name.replace(/^\//, '')
    const runId = info.Config.Labels?.[RUN_LABEL]
    const raw = (await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
    })) as Readable
    streams.add(raw)
    const outs = { stdout: new PassThrough(), stderr: new PassThrough() }
    for (const stream of ['stdout', 'stderr'] as const) {
      streams.add(outs[stream])
      onLines(
        outs[stream],
        (line) => deliver('container-logs', sink, { ...logRecord(line, name, id, stream, runId) }, lost),
        overlong('container-logs', lost),
      )
    }
    docker.modem.demuxStream(raw, outs.stdout, outs.stderr)
    raw.on('end', () => {
      outs.stdout.end()
      outs.stderr.end()
    })
  }

  return {
    source: 'container-logs',
    async start(sink, lost) {
      const followOrReport = (id: string) =>
        follow(id, sink, lost).catch((err: unknown) => {
          following.delete(id)
          lost?.({
            source: 'container-logs',
            kind: 'dropped',
            count: 1,
            reason: `cannot follow a container's logs: ${why(err)}`,
          })
        })
      try {
        events = (await docker.getEvents({
          filters: { type: ['container'], event: ['start'], label: [label] },
        })) as Readable
        onLines(events, (line) => {
          const actor = jsonLine('container-logs', line, lost)?.Actor as { ID?: unknown } | undefined
          if (typeof actor?.ID === 'string') void followOrReport(actor.ID)
        })
        const running = await docker.listContainers({ filters: { label: [label] } })
        await Promise.all(running.map((c) => follow(c.Id, sink, lost)))
      } catch (err) {
        throw collectorError('container-logs', err)
      }
    },
    async stop() {
      events?.destroy()
      events = undefined
      for (const s of streams) s.destroy()
      streams.clear()
      following.clear()
    },
  }
}

/** Parses one `timestamps: true` log line: `<RFC3339Nano> <text>`. */
export function logRecord(
  line: string,
  container: string,
  containerId: string,
  stream: 'stdout' | 'stderr',
  runId?: string,
): ContainerLogRecord {
  const space = line.indexOf(' ')
  const stamp = space > 0 ? line.slice(0, space) : ''
  const parsed = Date.parse(stamp)
  const record: ContainerLogRecord = Number.isNaN(parsed)
    ? { time: new Date().toISOString(), container, stream, log: line, containerId }
    : { time: stamp, container, stream, log: line.slice(space + 1), containerId }
  if (runId) record.runId = runId
  return record
}
