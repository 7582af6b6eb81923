// Lets an external detection pipeline (Falco's `http_output`, a SIEM webhook, a script) post its alerts
// into a live run, so each step shows which external rules fired and how fast, next to the built-in ones.
//
// Attribution, strongest first:
//  1. audit-id: the alert carries a Kubernetes audit ID (Falco k8saudit `output_fields["ka.auditid"]`,
//     generic `auditID`) and the bus holds a k8s-audit event with that ID: the alert's evidence is that
//     event, so it lands on whichever step the event is correlated to. An alert that arrives before its
//     event is held and linked as soon as the event is on the bus.
//  2. window: an alert without a linked event is attributed to a step when its own `time` falls in
//     [sentAt, endedAt + budget] of the step and its rule is one the step names (attack: `expect.alerts`;
//     benign: an explicit `expect.silent` list). Each such alert counts for one step only.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { Alert } from '../detection/types.js'
import { PurpleError } from '../errors.js'
import type { Step } from '../scenario/schema.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import type { TelemetryBus } from './telemetry-bus.js'

export const ALERTS_PATH = '/alerts'
const MAX_BODY_BYTES = 1 << 20
const PIPELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/

/** A payload the intake cannot accept; the message names the line and field (sent back as HTTP 400). */
export class AlertPayloadError extends PurpleError {
  constructor(message: string) {
    super('PURPLE_EVENTS_INVALID', message)
  }
}

// --- Parsing -------------------------------------------------------------------------------------------

/**
 * Parses a request body: one JSON object, a JSON array of objects, or JSON lines (one object a line).
 * Falco alerts are recognised by `priority` + `output`/`output_fields`; anything else is the generic
 * shape `{rule, time?, auditID?, title?, level?, tags?, pipeline?, fields?}`.
 */
export function parseAlertPayload(body: string, o: { pipeline?: string; receivedAt: Date }): Alert[] {
  const items = splitItems(body)
  if (!items.length) throw new AlertPayloadError('empty body: expected a JSON object or JSON lines')
  return items.map(({ value, where }) => toAlert(value, where, o))
}

function splitItems(body: string): { value: unknown; where: string }[] {
  const text = body.trim()
  if (!text) return []
  try {
    const whole: unknown = JSON.parse(text)
    if (Array.isArray(whole)) return whole.map((value, i) => ({ value, where: `item ${i}` }))
    return [{ value: whole, where: 'body' }]
  } catch {
    // Not one JSON document: JSON lines.
  }
  const out: { value: unknown; where: string }[] = []
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return
    try {
      out.push({ value: JSON.parse(line), where: `line ${i + 1}` })
    } catch (e) {
      throw new AlertPayloadError(`line ${i + 1}: not valid JSON (${(e as Error).message})`)
    }
  })
  return out
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

function isFalco(v: Record<string, unknown>): boolean {
  return 'priority' in v && ('output' in v || 'output_fields' in v)
}

function toAlert(value: unknown, where: string, o: { pipeline?: string; receivedAt: Date }): Alert {
  if (!isObject(value)) throw new AlertPayloadError(`${where}: expected a JSON object`)
  const falco = isFalco(value)
  const field = <T>(name: string, check: (v: unknown) => v is T, what: string): T | undefined => {
    const v = value[name]
    if (v === undefined || v === null) return undefined
    if (!check(v)) throw new AlertPayloadError(`${where}: field "${name}" must be ${what}`)
    return v
  }
  const isString = (v: unknown): v is string => typeof v === 'string'
  const rule = field('rule', isString, 'a string')
  if (!rule?.trim()) throw new AlertPayloadError(`${where}: field "rule" is missing or empty`)
  const fieldsName = falco ? 'output_fields' : 'fields'
  const fields = field(fieldsName, isObject, 'an object') ?? {}
  const rawTime = field('time', (v): v is string | number => isString(v) || typeof v === 'number', 'a time')
  const timeMs = rawTime === undefined ? o.receivedAt.getTime() : parseTime(rawTime)
  if (Number.isNaN(timeMs))
    throw new AlertPayloadError(`${where}: field "time" is not an ISO 8601 time or epoch ms: ${rawTime}`)
  const auditID = falco ? fields['ka.auditid'] : field('auditID', isString, 'a string')
  const tags = field('tags', (v): v is unknown[] => Array.isArray(v), 'an array of strings') ?? []
  const level = field(falco ? 'priority' : 'level', isString, 'a string')
  const pipeline = field('pipeline', isString, 'a string') ?? o.pipeline ?? (falco ? 'falco' : 'external')
  checkPipeline(pipeline, where)
  return {
    rule: rule.trim(),
    title: (falco ? undefined : field('title', isString, 'a string')) ?? rule.trim(),
    ...(level ? { level } : {}),
    tags: tags.filter(isString),
    ...(typeof auditID === 'string' && auditID ? { auditID } : {}),
    time: new Date(timeMs).toISOString(),
    alertTime: o.receivedAt.toISOString(),
    pipeline,
  }
}

/** ISO 8601 (Falco writes nanoseconds, which Date.parse accepts), or epoch ms/ns as a number. */
function parseTime(t: string | number): number {
  if (typeof t === 'number') return t > 1e15 ? Math.floor(t / 1e6) : t
  return Date.parse(t)
}

function checkPipeline(name: string, where: string): void {
  if (!PIPELINE_NAME.test(name))
    throw new AlertPayloadError(`${where}: pipeline "${name}" must be 1-40 letters, digits, '.', '_' or '-'`)
  if (name === 'builtin')
    throw new AlertPayloadError(`${where}: pipeline "builtin" is reserved for the harness's own engines`)
}

// --- Attribution ---------------------------------------------------------------------------------------

export interface StepWindow {
  sentAt: number
  endedAt: number
  budgetMs: number
}

/**
 * Holds external alerts and ties them to bus events. Alerts received before `attach` wait in a queue;
 * the bus's events are indexed by audit ID incrementally, so an alert whose event comes later is linked
 * at the next look (every query syncs first).
 */
export class ExternalAlerts {
  #bus: TelemetryBus | undefined
  readonly #queued: Alert[] = []
  /** Alerts with no linked event: candidates for window attribution (and, with an audit ID, for linking). */
  readonly #unlinked = new Set<Alert>()
  /** Alerts linked to an event that no step's final attribution has taken yet. */
  readonly #linkedUnclaimed = new Set<Alert>()
  readonly #byAuditID = new Map<string, TelemetryEvent>()
  #indexed = 0
  #received = 0

  constructor(private readonly options: { builtin: boolean } = { builtin: true }) {}

  attach(bus: TelemetryBus): void {
    this.#bus = bus
    for (const a of this.#queued.splice(0)) this.#accept(a)
  }

  /** How many external alerts were accepted. */
  get received(): number {
    return this.#received
  }

  add(alert: Alert): void {
    this.#received++
    if (this.#bus) this.#accept(alert)
    else this.#queued.push(alert)
  }

  /** Alerts that count for one step: the bus's alerts on its events plus window-attributed ones. */
  alertsFor(
    events: readonly TelemetryEvent[],
    step: Step,
    window: StepWindow,
    o: { final?: boolean } = {},
  ): Alert[] {
    const bus = this.#bus
    if (!bus) return []
    this.#sync()
    const onEvents = bus.alertsOn(events).filter((a) => this.options.builtin || a.pipeline !== 'builtin')
    const names = windowRules(step)
    const from = window.sentAt
    const to = window.endedAt + window.budgetMs
    const inWindow = [...this.#unlinked].filter((a) => {
      const t = Date.parse(a.time)
      return names.has(a.rule) && t >= from && t <= to
    })
    if (o.final) {
      for (const a of inWindow) this.#unlinked.delete(a)
      for (const a of onEvents) this.#linkedUnclaimed.delete(a)
    }
    return [...onEvents, ...inWindow.map((a) => ({ ...a, correlation: 'window' as const }))]
  }

  /** External alerts that no step claimed (for the run's findings). */
  unattributed(): Alert[] {
    this.#sync()
    return [...this.#unlinked, ...this.#linkedUnclaimed]
  }

  #accept(alert: Alert): void {
    this.#sync()
    if (!this.#link(alert)) {
      this.#unlinked.add(alert)
      // Without an audit ID there is nothing to wait for: the bus keeps it as an unlinked alert.
      if (!alert.auditID) this.#bus?.addAlert(alert)
    }
  }

  #link(alert: Alert): boolean {
    const event = alert.auditID ? this.#byAuditID.get(alert.auditID) : undefined
    if (!event) return false
    const linked: Alert = { ...alert, evidence: event, correlation: 'audit-id' }
    this.#linkedUnclaimed.add(linked)
    this.#bus?.addAlert(linked)
    return true
  }

  #sync(): void {
    const events = this.#bus?.events ?? []
    let added = false
    for (; this.#indexed < events.length; this.#indexed++) {
      const e = events[this.#indexed]
      if (e?.source !== 'k8s-audit' || !e.auditID || this.#byAuditID.has(e.auditID)) continue
      this.#byAuditID.set(e.auditID, e)
      added = true
    }
    if (!added) return
    for (const a of this.#unlinked)
      if (a.auditID && this.#link(a)) {
        this.#unlinked.delete(a)
      }
  }
}

/** Rules a step names, which an unlinked alert must carry to be attributed to it by time alone. */
function windowRules(step: Step): Set<string> {
  if (step.kind === 'attack') return new Set(step.expect.alerts)
  return new Set(Array.isArray(step.expect.silent) ? step.expect.silent : [])
}

// --- HTTP server ---------------------------------------------------------------------------------------

/** Environment variable that may carry the intake token (a command line is readable by every local user). */
export const ALERTS_TOKEN_ENV = 'PURPLEKIND_ALERTS_TOKEN'
const MAX_TOKEN_FILE_BYTES = 4096

/**
 * The intake token the user chose: from `--alerts-token-file` (an owner-only file) or PURPLEKIND_ALERTS_TOKEN,
 * else undefined (the intake generates one). Never from argv: /proc/<pid>/cmdline is world-readable, and a
 * local user holding the token can forge alerts that turn a MISS into DETECTED.
 */
export function suppliedIntakeToken(o: { file?: string; env: NodeJS.ProcessEnv }): string | undefined {
  if (o.file !== undefined) {
    let fd: number
    try {
      fd = openSync(o.file, 'r')
    } catch (e) {
      throw new PurpleError(
        'PURPLE_INPUT_NOT_FOUND',
        `--alerts-token-file ${o.file}: ${(e as Error).message}`,
      )
    }
    try {
      const st = fstatSync(fd)
      if (!st.isFile() || st.size > MAX_TOKEN_FILE_BYTES)
        throw new PurpleError(
          'PURPLE_USAGE',
          `--alerts-token-file ${o.file}: not a token file (a regular file of at most ${MAX_TOKEN_FILE_BYTES} bytes)`,
        )
      if (st.mode & 0o077)
        throw new PurpleError(
          'PURPLE_USAGE',
          `--alerts-token-file ${o.file}: readable by others (mode ${(st.mode & 0o777).toString(8)})`,
          {
            hint: `chmod 600 ${o.file}`,
          },
        )
      const buf = Buffer.alloc(st.size)
      const n = readSync(fd, buf, 0, st.size, 0)
      return checkedToken(buf.subarray(0, n).toString('utf8').trim(), '--alerts-token-file')
    } finally {
      closeSync(fd)
    }
  }
  const fromEnv = o.env[ALERTS_TOKEN_ENV]
  return fromEnv === undefined ? undefined : checkedToken(fromEnv.trim(), ALERTS_TOKEN_ENV)
}

function checkedToken(token: string, source: string): string {
  if (token.length < 16 || /\s/.test(token))
    throw new PurpleError(
      'PURPLE_USAGE',
      `${source}: the intake token must be at least 16 characters, without spaces`,
    )
  return token
}

/**
 * One log line per `everyMs` for a repeated event (rejected requests): the first at once, the rest
 * counted into the next line (or the final flush). A flood of bad requests cannot flood the log.
 */
export class RateLimitedNote {
  private pending = 0
  private last = Number.NEGATIVE_INFINITY
  constructor(
    private readonly log: (line: string) => void,
    private readonly what: (count: number) => string,
    private readonly everyMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  hit(): void {
    this.pending++
    const t = this.now()
    if (t - this.last >= this.everyMs) {
      this.last = t
      this.flush()
    }
  }

  flush(): void {
    if (this.pending) this.log(this.what(this.pending))
    this.pending = 0
  }
}

export interface AlertIntakeOptions {
  /** 0 picks a free port. */
  port: number
  /** Shared secret; generated when absent. */
  token?: string
  /** Where to write a generated token (0600), so it can be copied even though logs mask it. */
  tokenFile?: string
  alerts: ExternalAlerts
  log: (line: string) => void
}

export interface AlertIntake {
  readonly url: string
  readonly token: string
  /** Set when the token was generated: the 0600 file holding it. */
  readonly tokenFile?: string
  stop(): Promise<void>
}

/** Starts the intake on 127.0.0.1. Resolves once it is listening. */
export async function startAlertIntake(o: AlertIntakeOptions): Promise<AlertIntake> {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)
    throw new PurpleError('PURPLE_USAGE', `--alerts-listen must be a port number 0-65535, got ${o.port}`)
  const token = o.token ?? randomBytes(24).toString('base64url')
  if (token.length < 16)
    throw new PurpleError('PURPLE_USAGE', 'the intake token must be at least 16 characters long')
  if (!o.token && !o.tokenFile)
    throw new PurpleError('PURPLE_INTERNAL', 'a generated intake token needs a file')
  const rejected = new RateLimitedNote(o.log, (n) =>
    n === 1
      ? 'alert intake: rejected a request without the right token (401)'
      : `alert intake: rejected ${n} requests without the right token (401) since the last note`,
  )
  const server = createServer((req, res) => {
    handle(req, res, token, o, rejected).catch((e: unknown) =>
      reply(res, 500, `internal error: ${String(e)}`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        new PurpleError('PURPLE_USAGE', `alert intake cannot listen on 127.0.0.1:${o.port}: ${e.message}`),
      ),
    )
    server.listen(o.port, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  // Written only once listening: a port already in use leaves no token file behind.
  let tokenFile: string | undefined
  if (!o.token && o.tokenFile) {
    tokenFile = o.tokenFile
    try {
      await mkdir(path.dirname(tokenFile), { recursive: true, mode: 0o700 })
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 })
      await chmod(tokenFile, 0o600)
    } catch (e) {
      await close(server)
      throw new PurpleError(
        'PURPLE_LAB_FAILED',
        `cannot write the intake token to ${tokenFile}: ${(e as Error).message}`,
      )
    }
  }
  return {
    url: `http://127.0.0.1:${port}${ALERTS_PATH}`,
    token,
    ...(tokenFile ? { tokenFile } : {}),
    stop: async () => {
      await close(server)
      rejected.flush()
    },
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  o: AlertIntakeOptions,
  rejected: RateLimitedNote,
): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress)) return reply(res, 403, 'only loopback clients are accepted')
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  if (url.pathname !== ALERTS_PATH) return reply(res, 404, `POST alerts to ${ALERTS_PATH}`)
  if (req.method !== 'POST') return reply(res, 405, 'use POST')
  if (!authorized(req, url, token)) {
    rejected.hit()
    return reply(res, 401, 'missing or wrong bearer token')
  }
  const receivedAt = new Date()
  const body = await readBody(req)
  if (body === undefined) return reply(res, 413, `body larger than ${MAX_BODY_BYTES} bytes`)
  const pipeline = url.searchParams.get('pipeline') ?? undefined
  let alerts: Alert[]
  try {
    alerts = parseAlertPayload(body, { receivedAt, ...(pipeline ? { pipeline } : {}) })
  } catch (e) {
    if (!(e instanceof AlertPayloadError)) throw e
    o.log(`alert intake: rejected a payload (400): ${e.message}`)
    return reply(res, 400, e.message)
  }
  for (const a of alerts) o.alerts.add(a)
  reply(res, 202, undefined, { accepted: alerts.length })
}

export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr
  return v4 === '::1' || /^127\.\d+\.\d+\.\d+$/.test(v4)
}

// Falco's http_output cannot set headers, so `?token=` is accepted as well as `Authorization: Bearer`.
function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  const header = req.headers.authorization
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : url.searchParams.get('token')
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The request body, or undefined when it exceeds MAX_BODY_BYTES (read to the end, never kept). */
export function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY_BYTES) chunks.push(c)
    })
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function reply(res: ServerResponse, status: number, error?: string, body?: object): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(`${JSON.stringify(error ? { error } : (body ?? {}))}\n`)
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
