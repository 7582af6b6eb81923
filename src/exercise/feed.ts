// The blue side's telemetry, the way their tools take it: one tail-able JSON-lines file per source (the
// source's own record format, as `purplekind evaluate` reads it), and forwarding over HTTP — in the Splunk
// HTTP Event Collector format, or as plain JSON lines. Everything passes the redactor first.
import { createWriteStream, type WriteStream } from 'node:fs'
import path from 'node:path'
import { PurpleError } from '../errors.js'
import type { Redactor } from '../redact/redactor.js'
import {
  DEFAULT_INDEX,
  SOURCES,
  SOURCETYPES,
  type SourceName,
  type TelemetryEvent,
} from '../telemetry/event.js'
import { ownDir } from './store.js'

export type SinkFormat = 'hec' | 'jsonl'

export interface SinkOptions {
  format: SinkFormat
  url: string
  /** HEC: sent as `Authorization: Splunk <token>`; jsonl: as `Authorization: Bearer <token>`. */
  token?: string
}

/** One record as forwarded: the source's raw record and where it came from. */
export interface FeedRecord {
  source: SourceName
  timeMs: number
  raw: Record<string, unknown>
}

/** Splunk HEC event JSON: several events are simply concatenated in one POST body. */
export function hecEvent(r: FeedRecord, host = 'purplekind-lab'): string {
  return JSON.stringify({
    time: r.timeMs / 1000,
    host,
    source: r.source,
    sourcetype: SOURCETYPES[r.source],
    index: DEFAULT_INDEX,
    event: r.raw,
  })
}

/** A plain JSON line: the raw record wrapped with its source, sourcetype and time. */
export function jsonLine(r: FeedRecord): string {
  return JSON.stringify({
    time: new Date(r.timeMs).toISOString(),
    source: r.source,
    sourcetype: SOURCETYPES[r.source],
    event: r.raw,
  })
}

/** Forwarding stays on this machine: only loopback endpoints. */
export function checkSinkUrl(url: string): URL {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new PurpleError('PURPLE_USAGE', `not a URL: ${url}`)
  }
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new PurpleError('PURPLE_USAGE', `${url}: forward to http:// or https:// only`)
  if (!loopback)
    throw new PurpleError('PURPLE_USAGE', `${url}: telemetry is forwarded to loopback endpoints only`, {
      hint: 'run the SIEM (or a forwarder to it) on this machine',
    })
  return u
}

const MAX_QUEUE = 50_000
const BATCH = 500

/** An HTTP endpoint fed in batches; a failing endpoint keeps its queue (bounded) and retries. */
class HttpSink {
  readonly #queue: FeedRecord[] = []
  #busy: Promise<void> | undefined
  sent = 0
  dropped = 0
  failures = 0
  lastError: string | undefined

  constructor(readonly o: SinkOptions) {
    checkSinkUrl(o.url)
  }

  add(r: FeedRecord): void {
    this.#queue.push(r)
    if (this.#queue.length > MAX_QUEUE) {
      this.#queue.shift()
      this.dropped++
    }
  }

  flush(): Promise<void> {
    this.#busy ??= this.#send().finally(() => {
      this.#busy = undefined
    })
    return this.#busy
  }

  async #send(): Promise<void> {
    while (this.#queue.length) {
      const batch = this.#queue.slice(0, BATCH)
      const body =
        this.o.format === 'hec'
          ? batch.map((r) => hecEvent(r)).join('\n')
          : `${batch.map(jsonLine).join('\n')}\n`
      const auth = this.o.token
        ? `${this.o.format === 'hec' ? 'Splunk' : 'Bearer'} ${this.o.token}`
        : undefined
      try {
        const res = await fetch(this.o.url, {
          method: 'POST',
          headers: {
            'content-type': this.o.format === 'hec' ? 'application/json' : 'application/x-ndjson',
            ...(auth ? { authorization: auth } : {}),
          },
          body,
          signal: AbortSignal.timeout(10_000),
        })
        await res.arrayBuffer().catch(() => undefined)
        if (!res.ok) throw new Error(`HTTP ${res.status}`)
      } catch (e) {
        this.failures++
        this.lastError = (e as Error).message
        return // kept for the next flush
      }
      this.#queue.splice(0, batch.length)
      this.sent += batch.length
    }
  }
}

export interface FeedStats {
  files: Partial<Record<SourceName, number>>
  sinks: {
    url: string
    format: SinkFormat
    sent: number
    dropped: number
    failures: number
    lastError?: string
  }[]
}

/** Fans every event out to its source file and to each HTTP sink. */
export class TelemetryFeed {
  readonly #streams = new Map<SourceName, WriteStream>()
  readonly #sinks: HttpSink[]
  readonly #counts: Partial<Record<SourceName, number>> = {}
  #timer: NodeJS.Timeout | undefined
  #closed: Promise<void> | undefined

  private constructor(
    readonly dir: string,
    private readonly redactor: Redactor,
    sinks: readonly SinkOptions[],
  ) {
    this.#sinks = sinks.map((s) => new HttpSink(s))
  }

  /** Opens telemetry/<source>.jsonl under `dir` (world-readable: the blue side tails them). */
  static async open(dir: string, redactor: Redactor, sinks: readonly SinkOptions[]): Promise<TelemetryFeed> {
    const feed = new TelemetryFeed(dir, redactor, sinks)
    await ownDir(dir)
    await ownDir(path.join(dir, 'telemetry'))
    for (const s of SOURCES)
      feed.#streams.set(
        s,
        createWriteStream(path.join(dir, 'telemetry', `${s}.jsonl`), { flags: 'a', mode: 0o644 }),
      )
    feed.#timer = setInterval(() => void feed.flush(), 500)
    return feed
  }

  push(e: TelemetryEvent): void {
    this.pushRecord({ source: e.source, timeMs: e.timeMs, raw: e.raw })
  }

  pushRecord(r: FeedRecord): void {
    if (this.#closed) return // late events after the end are not part of the exercise
    const raw = this.redactor.redactValue(r.raw)
    this.#streams.get(r.source)?.write(`${JSON.stringify(raw)}\n`)
    this.#counts[r.source] = (this.#counts[r.source] ?? 0) + 1
    for (const s of this.#sinks) s.add({ ...r, raw })
  }

  async flush(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.flush()))
  }

  stats(): FeedStats {
    return {
      files: { ...this.#counts },
      sinks: this.#sinks.map((s) => ({
        url: s.o.url,
        format: s.o.format,
        sent: s.sent,
        dropped: s.dropped,
        failures: s.failures,
        ...(s.lastError ? { lastError: s.lastError } : {}),
      })),
    }
  }

  /** Flushes and closes the files; safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#timer)
      await this.flush()
      await Promise.all(
        [...this.#streams.values()].map((w) => new Promise<void>((resolve) => w.end(() => resolve()))),
      )
    })()
    return this.#closed
  }
}
