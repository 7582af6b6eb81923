// Findings come back from the blue teams over HTTP on loopback, each team with its own token:
//  - POST /alerts   alerts their pipeline raises, in the run's alert-intake format (Falco http_output,
//                   or the generic {rule, time, auditID, …}); parsed by the run's own parser.
//  - POST /findings one finding by hand ({time, actor?, technique?, note?, auditID?}); what
//                   `purplekind exercise submit` sends.
// Actor and technique are read from alerts too when present (generic: `actor`, `technique`, `fields.user`;
// Falco: `output_fields["ka.user.name"]`; a tag like `attack.t1552.007` names the technique).
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PurpleError } from '../errors.js'
import { AlertPayloadError, isLoopback, parseAlertPayload, readBody } from '../run/alert-intake.js'
import type { Finding } from './score.js'

const MAX_BODY_BYTES = 1 << 20
const MAX_FINDINGS_PER_TEAM = 10_000
const TEAM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/

export function checkTeamName(name: string): string {
  if (!TEAM_NAME.test(name))
    throw new PurpleError(
      'PURPLE_USAGE',
      `team name "${name}" must be 1-32 lower-case letters, digits, _ or -`,
    )
  return name
}

export function newTeamToken(): string {
  return randomBytes(24).toString('base64url')
}

/** All findings of all teams, in arrival order. */
export class FindingBook {
  readonly findings: Finding[] = []
  readonly #perTeam = new Map<string, number>()

  add(f: Omit<Finding, 'id'>): Finding | undefined {
    const n = this.#perTeam.get(f.team) ?? 0
    if (n >= MAX_FINDINGS_PER_TEAM) return undefined
    this.#perTeam.set(f.team, n + 1)
    const finding = { id: `f${String(this.findings.length + 1).padStart(3, '0')}`, ...f }
    this.findings.push(finding)
    return finding
  }

  count(team: string): number {
    return this.#perTeam.get(team) ?? 0
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown, max = 500) =>
  typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined

/** Items of a body the way the alert parser splits it (one object, an array, or JSON lines). */
function items(body: string): Record<string, unknown>[] {
  const text = body.trim()
  try {
    const whole: unknown = JSON.parse(text)
    return (Array.isArray(whole) ? whole : [whole]).map((v) => (isObj(v) ? v : {}))
  } catch {
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        try {
          const v: unknown = JSON.parse(l)
          return isObj(v) ? v : {}
        } catch {
          return {}
        }
      })
  }
}

const TECHNIQUE = /^(?:attack\.)?(t\d{4}(?:\.\d{3})?)$/i

function alertExtras(item: Record<string, unknown>): { actor?: string; technique?: string } {
  const fields = isObj(item.output_fields) ? item.output_fields : isObj(item.fields) ? item.fields : {}
  const actor = str(item.actor) ?? str(fields.user) ?? str(fields['ka.user.name']) ?? str(fields.actor)
  const tag = (Array.isArray(item.tags) ? item.tags : [])
    .map((t) => TECHNIQUE.exec(String(t))?.[1])
    .find(Boolean)
  const technique = str(item.technique) ?? tag?.toUpperCase()
  return { ...(actor ? { actor } : {}), ...(technique ? { technique: technique.toUpperCase() } : {}) }
}

/** A hand-written finding, as `exercise submit` posts it. */
export function parseManualFinding(
  body: string,
): Pick<Finding, 'time'> & Partial<Pick<Finding, 'actor' | 'technique' | 'note' | 'auditID'>> {
  let v: unknown
  try {
    v = JSON.parse(body)
  } catch {
    throw new AlertPayloadError('body: not JSON')
  }
  if (!isObj(v)) throw new AlertPayloadError('body: expected a JSON object')
  const time =
    typeof v.time === 'number' ? v.time : typeof v.time === 'string' ? Date.parse(v.time) : Number.NaN
  if (!Number.isFinite(time))
    throw new AlertPayloadError('field "time": an ISO 8601 time or epoch ms is required')
  const technique = str(v.technique, 20)
  if (technique && !/^T\d{4}(\.\d{3})?$/i.test(technique))
    throw new AlertPayloadError(`field "technique": not an ATT&CK technique id: ${technique}`)
  const actor = str(v.actor, 200)
  const note = str(v.note, 2000)
  const auditID = str(v.auditID, 100)
  if (!actor && !technique && !auditID)
    throw new AlertPayloadError('a finding needs at least one of "actor", "technique" or "auditID"')
  return {
    time,
    ...(actor ? { actor } : {}),
    ...(technique ? { technique: technique.toUpperCase() } : {}),
    ...(note ? { note } : {}),
    ...(auditID ? { auditID } : {}),
  }
}

export interface FindingIntake {
  readonly url: string
  stop(): Promise<void>
}

export interface FindingIntakeOptions {
  port: number
  /** team → token */
  teams: Readonly<Record<string, string>>
  book: FindingBook
  /** The exercise's clock (wall clock live; the recording's timeline in a replay). */
  now: () => number
  log: (line: string) => void
}

export async function startFindingIntake(o: FindingIntakeOptions): Promise<FindingIntake> {
  const tokens = Object.entries(o.teams).map(([team, token]) => ({ team, token: Buffer.from(token) }))
  const server = createServer((req, res) => {
    handle(req, res, o, tokens).catch((e: unknown) =>
      reply(res, 500, { error: `internal error: ${String(e)}` }),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        new PurpleError('PURPLE_USAGE', `findings intake cannot listen on 127.0.0.1:${o.port}: ${e.message}`),
      ),
    )
    server.listen(o.port, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function teamOf(
  req: IncomingMessage,
  url: URL,
  tokens: { team: string; token: Buffer }[],
): string | undefined {
  const header = req.headers.authorization
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : url.searchParams.get('token')
  if (!given) return undefined
  const g = Buffer.from(given)
  return tokens.find((t) => t.token.length === g.length && timingSafeEqual(t.token, g))?.team
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  o: FindingIntakeOptions,
  tokens: { team: string; token: Buffer }[],
): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress))
    return reply(res, 403, { error: 'only loopback clients are accepted' })
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  if (url.pathname !== '/alerts' && url.pathname !== '/findings')
    return reply(res, 404, { error: 'POST to /alerts or /findings' })
  if (req.method !== 'POST') return reply(res, 405, { error: 'use POST' })
  const team = teamOf(req, url, tokens)
  if (!team) {
    o.log('findings intake: rejected a request without a team token (401)')
    return reply(res, 401, { error: 'missing or unknown team token' })
  }
  const receivedAt = o.now()
  const body = await readBody(req)
  if (body === undefined) return reply(res, 413, { error: `body larger than ${MAX_BODY_BYTES} bytes` })
  const ids: string[] = []
  try {
    if (url.pathname === '/findings') {
      const f = o.book.add({ team, via: 'manual', receivedAt, ...parseManualFinding(body) })
      if (f) ids.push(f.id)
    } else {
      const alerts = parseAlertPayload(body, { receivedAt: new Date(receivedAt) })
      const extras = items(body)
      alerts.forEach((a, i) => {
        const f = o.book.add({
          team,
          via: 'alert',
          receivedAt,
          time: Date.parse(a.time),
          rule: a.rule.slice(0, 200),
          ...(a.auditID ? { auditID: a.auditID } : {}),
          ...alertExtras(extras[i] ?? {}),
        })
        if (f) ids.push(f.id)
      })
    }
  } catch (e) {
    if (!(e instanceof AlertPayloadError)) throw e
    return reply(res, 400, { error: e.message })
  }
  reply(res, 202, { accepted: ids.length, ids })
}

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(`${JSON.stringify(body)}\n`)
}
