// Live Kubernetes audit telemetry. The primary source is the apiserver's audit webhook (blocking mode,
// one EventList per request) posted to an HTTPS receiver on loopback; the fallback tails the audit log
// file the apiserver writes in parallel. Both normalize through the shared `normalize('k8s-audit', …)`.
import { timingSafeEqual } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import { PurpleError } from '../errors.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import { normalize } from '../telemetry/normalize.js'
import type { LossReporter, TelemetryCollector, TelemetryLoss } from './provider.js'

type Sink = (event: TelemetryEvent) => void

const RECEIVED_AT = new WeakMap<TelemetryEvent, number>()

/** Wall-clock ms at which the harness received `event` (for time-to-telemetry measurements). */
export function receivedAtMs(event: TelemetryEvent): number | undefined {
  return RECEIVED_AT.get(event)
}

/** Fan-out shared by both collectors: subscribers, the started sink, and the received-time stamp. */
class Subscribers {
  private readonly sinks = new Set<Sink>()
  add(sink: Sink): () => void {
    this.sinks.add(sink)
    return () => this.sinks.delete(sink)
  }
  clear(): void {
    this.sinks.clear()
  }
  deliver(events: readonly TelemetryEvent[], receivedMs: number): void {
    for (const event of events) {
      RECEIVED_AT.set(event, receivedMs)
      for (const sink of this.sinks) sink(event)
    }
  }
}

export const AUDIT_WEBHOOK_PATH = '/audit'
const MAX_BODY_BYTES = 32 * 1024 * 1024

export interface AuditWebhookOptions {
  /** Loopback port to listen on (0 = any free port; read `port` after start). */
  readonly port: number
  /** PEM serving certificate (signed by the lab CA) and its key. */
  readonly cert: string
  readonly key: string
  /** Bearer token the apiserver's webhook kubeconfig sends (`users[].user.token`). */
  readonly token: string
  /** Called for records that fail normalization (the request is still accepted). */
  readonly onError?: (err: Error) => void
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/** HTTPS receiver for the apiserver audit webhook (audit.k8s.io/v1 EventList JSON). */
export class AuditWebhookReceiver implements TelemetryCollector {
  readonly source = 'k8s-audit' as const
  private readonly subscribers = new Subscribers()
  private server: Server | undefined
  private boundPort: number | undefined
  private readonly expectedToken: Buffer
  private lost: LossReporter | undefined

  constructor(private readonly opts: AuditWebhookOptions) {
    this.expectedToken = Buffer.from(`Bearer ${opts.token}`)
  }

  /** The port listened on (after start). */
  get port(): number {
    if (this.boundPort === undefined) throw new PurpleError('PURPLE_INTERNAL', 'audit receiver not started')
    return this.boundPort
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}${AUDIT_WEBHOOK_PATH}`
  }

  /** Adds a subscriber besides the sink given to start(); returns its unsubscribe function. */
  subscribe(sink: Sink): () => void {
    return this.subscribers.add(sink)
  }

  async start(sink: Sink, lost?: LossReporter): Promise<void> {
    this.subscribers.add(sink)
    this.lost ??= lost
    if (this.server) return
    const server = createServer({ cert: this.opts.cert, key: this.opts.key }, (req, res) => {
      void this.handle(req, res)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new PurpleError(
            'PURPLE_COLLECTOR_FAILED',
            `audit receiver cannot listen on 127.0.0.1:${this.opts.port}: ${err.message}`,
            {
              hint: 'another process holds the port; `purplekind lab down` then `lab up` picks a new one',
            },
          ),
        ),
      )
      server.listen(this.opts.port, '127.0.0.1', () => resolve())
    })
    const addr = server.address()
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.opts.port
    this.server = server
  }

  async stop(): Promise<void> {
    this.subscribers.clear()
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await this.readAuthorized(req)
      const receivedMs = Date.now()
      const items = parseEventList(body)
      const events: TelemetryEvent[] = []
      for (const item of items) {
        try {
          events.push(...normalize('k8s-audit', item))
        } catch (err) {
          this.opts.onError?.(err as Error)
          this.lost?.(unreadable(err))
        }
      }
      this.subscribers.deliver(events, receivedMs)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'internal error')
      // An authenticated batch refused is audit telemetry lost (the apiserver does not resend it).
      if (e.status === 400 || e.status === 413 || e.status === 500)
        this.lost?.({
          source: 'k8s-audit',
          kind: 'dropped',
          count: 1,
          reason: `a webhook batch was refused (${e.status} ${e.message})`,
        })
      if (!res.headersSent) res.writeHead(e.status, { 'content-type': 'text/plain', ...e.headers })
      res.end(`${e.message}\n`)
    }
  }

  private async readAuthorized(req: IncomingMessage): Promise<string> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1')
    if (url.pathname !== AUDIT_WEBHOOK_PATH) throw new HttpError(404, 'not found')
    if (req.method !== 'POST') throw new HttpError(405, 'method not allowed', { allow: 'POST' })
    const given = Buffer.from(req.headers.authorization ?? '')
    if (given.length !== this.expectedToken.length || !timingSafeEqual(given, this.expectedToken)) {
      throw new HttpError(401, 'unauthorized')
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large')
      chunks.push(chunk as Buffer)
    }
    return Buffer.concat(chunks).toString('utf8')
  }
}

/** The `items` of an audit.k8s.io/v1 EventList body; a 400 for anything else. */
export function parseEventList(body: string): Record<string, unknown>[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw new HttpError(400, 'body is not JSON')
  }
  const list = parsed as { kind?: unknown; items?: unknown }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    list.kind !== 'EventList' ||
    !Array.isArray(list.items)
  ) {
    throw new HttpError(400, 'body is not an audit.k8s.io/v1 EventList')
  }
  const items = list.items as unknown[]
  if (!items.every((i) => typeof i === 'object' && i !== null && !Array.isArray(i))) {
    throw new HttpError(400, 'EventList items must be objects')
  }
  return items as Record<string, unknown>[]
}

export interface AuditLogTailOptions {
  readonly file: string
  /** Read the whole file first (default: only lines appended after start). */
  readonly fromStart?: boolean
  readonly pollMs?: number
  readonly onError?: (err: Error) => void
}

/** Fallback collector: tails the apiserver's JSON-lines audit log (one Event per line). */
export class AuditLogTailCollector implements TelemetryCollector {
  readonly source = 'k8s-audit' as const
  private readonly subscribers = new Subscribers()
  private timer: NodeJS.Timeout | undefined
  private offset = 0
  private lineNo = 0
  private partial = ''
  private reading: Promise<void> = Promise.resolve()
  private lost: LossReporter | undefined

  constructor(private readonly opts: AuditLogTailOptions) {}

  async start(sink: Sink, lost?: LossReporter): Promise<void> {
    this.subscribers.add(sink)
    this.lost ??= lost
    if (this.timer) return
    if (!this.opts.fromStart) {
      // Skip what is already there, but keep counting lines so origins stay true file lines.
      this.offset = await sizeOf(this.opts.file)
      this.lineNo = await countLines(this.opts.file, this.offset)
    }
    this.timer = setInterval(() => {
      // A failed poll (rotation race, EACCES) is reported, never left as an unhandled rejection.
      this.reading = this.reading
        .then(() => this.poll())
        .catch((e: unknown) => {
          this.opts.onError?.(e as Error)
          this.lost?.({
            source: 'k8s-audit',
            kind: 'dropped',
            count: 1,
            reason: `a poll of ${this.opts.file} failed: ${(e as Error).message}`,
          })
        })
    }, this.opts.pollMs ?? 100)
    await this.poll()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.reading
    this.subscribers.clear()
  }

  private async poll(): Promise<void> {
    const size = await sizeOf(this.opts.file)
    if (size < this.offset) {
      // rotated or truncated: start over on the new file
      this.offset = 0
      this.lineNo = 0
      this.partial = ''
    }
    if (size === this.offset) return
    const fh = await open(this.opts.file, 'r')
    try {
      const buf = Buffer.alloc(size - this.offset)
      await fh.read(buf, 0, buf.length, this.offset)
      this.offset = size
      const text = this.partial + buf.toString('utf8')
      const lines = text.split('\n')
      this.partial = lines.pop() ?? ''
      const receivedMs = Date.now()
      for (const line of lines) this.emitLine(line, receivedMs)
    } finally {
      await fh.close()
    }
  }

  private emitLine(line: string, receivedMs: number): void {
    this.lineNo += 1
    if (!line.trim()) return
    const origin = { file: this.opts.file, line: this.lineNo }
    try {
      this.subscribers.deliver(normalize('k8s-audit', JSON.parse(line), { origin }), receivedMs)
    } catch (err) {
      this.opts.onError?.(err as Error)
      this.lost?.(unreadable(err))
    }
  }
}

function unreadable(err: unknown): TelemetryLoss {
  // A JSON syntax error quotes the line: name the problem, not the content (it may hold secrets).
  const message =
    err instanceof SyntaxError ? 'a line is not valid JSON' : err instanceof Error ? err.message : String(err)
  return { source: 'k8s-audit', kind: 'unreadable', count: 1, reason: message.slice(0, 300) }
}

async function countLines(file: string, upTo: number): Promise<number> {
  if (upTo === 0) return 0
  let lines = 0
  for await (const chunk of createReadStream(file, { start: 0, end: upTo - 1 })) {
    for (const byte of chunk as Buffer) if (byte === 10) lines++
  }
  return lines
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size
  } catch {
    return 0
  }
}
