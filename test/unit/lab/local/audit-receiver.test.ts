// The audit webhook receiver over real HTTPS (cert from the lab PKI code) and the audit-log tail.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AuditLogTailCollector,
  AuditWebhookReceiver,
  receivedAtMs,
} from '../../../../src/lab/audit-receiver.js'
import { makePki } from '../../../../src/lab/local/pki.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'

const auditEvent = (auditID: string, verb = 'list') => ({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID,
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/default/secrets?limit=500',
  verb,
  user: { username: 'jane', groups: ['system:authenticated'] },
  sourceIPs: ['127.0.0.1'],
  objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: '2026-11-27T10:00:00.000000Z',
  stageTimestamp: '2026-11-27T10:00:00.010000Z',
})

let dir: string
let ca: string
let receiver: AuditWebhookReceiver
const got: TelemetryEvent[] = []
const errors: Error[] = []

function send(opts: { path?: string; method?: string; token?: string; body?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: receiver.port,
        path: opts.path ?? '/audit',
        method: opts.method ?? 'POST',
        ca,
        headers: { authorization: `Bearer ${opts.token ?? 'sekret'}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pk-receiver-'))
  await makePki(dir)
  ca = await readFile(join(dir, 'ca.crt'), 'utf8')
  receiver = new AuditWebhookReceiver({
    port: 0,
    cert: await readFile(join(dir, 'audit-receiver.crt'), 'utf8'),
    key: await readFile(join(dir, 'audit-receiver.key'), 'utf8'),
    token: 'sekret',
    onError: (e) => errors.push(e),
  })
  await receiver.start((e) => got.push(e))
})

afterAll(async () => {
  await receiver.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('AuditWebhookReceiver', () => {
  it('normalizes every item of a posted EventList and stamps the received time', async () => {
    const before = Date.now()
    const body = JSON.stringify({
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      items: [auditEvent('a-1'), auditEvent('a-2', 'get')],
    })
    expect(await send({ body })).toBe(200)
    const mine = got.filter((e) => e.auditID?.startsWith('a-'))
    expect(mine.map((e) => e.auditID)).toEqual(['a-1', 'a-2'])
    expect(mine[0]?.source).toBe('k8s-audit')
    expect(receivedAtMs(mine[0] as TelemetryEvent)).toBeGreaterThanOrEqual(before)
  })

  it('also hands events to extra subscribers until they unsubscribe', async () => {
    const seen: string[] = []
    const off = receiver.subscribe((e) => seen.push(e.auditID ?? ''))
    await send({ body: JSON.stringify({ kind: 'EventList', items: [auditEvent('s-1')] }) })
    off()
    await send({ body: JSON.stringify({ kind: 'EventList', items: [auditEvent('s-2')] }) })
    expect(seen).toEqual(['s-1'])
  })

  it.each([
    ['a wrong token', { token: 'nope', body: '{}' }, 401],
    ['a wrong path', { path: '/other', body: '{}' }, 404],
    ['a wrong method', { method: 'GET' }, 405],
    ['a wrong method with a body', { method: 'PUT', body: '{}' }, 405],
    ['a non-JSON body', { body: 'not json' }, 400],
    ['JSON that is not an EventList', { body: '{"kind":"Event"}' }, 400],
    ['EventList items that are not objects', { body: '{"kind":"EventList","items":[1]}' }, 400],
  ])('rejects %s', async (_name, opts, status) => {
    const count = got.length
    expect(await send(opts)).toBe(status)
    expect(got.length).toBe(count)
  })

  it('skips records the normalizer rejects but keeps the rest of the batch', async () => {
    const body = JSON.stringify({ kind: 'EventList', items: [{ kind: 'Event' }, auditEvent('ok-1')] })
    expect(await send({ body })).toBe(200)
    expect(got.some((e) => e.auditID === 'ok-1')).toBe(true)
    expect(errors.length).toBeGreaterThan(0)
  })

  it('stops listening on stop() and tolerates a second stop()', async () => {
    const r = new AuditWebhookReceiver({
      port: 0,
      cert: await readFile(join(dir, 'audit-receiver.crt'), 'utf8'),
      key: await readFile(join(dir, 'audit-receiver.key'), 'utf8'),
      token: 't',
    })
    await r.start(() => {})
    const port = r.port
    await r.stop()
    await r.stop()
    const refused = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/audit', method: 'POST', ca }, () =>
        resolve(false),
      )
      req.on('error', () => resolve(true))
      req.end()
    })
    expect(refused).toBe(true)
  })
})

describe('AuditLogTailCollector', () => {
  it('delivers only lines appended after start, with their true file line numbers', async () => {
    const file = join(dir, 'audit.log')
    await writeFile(file, `${JSON.stringify(auditEvent('old-1'))}\n`)
    const seen: TelemetryEvent[] = []
    const tail = new AuditLogTailCollector({ file, pollMs: 20 })
    await tail.start((e) => seen.push(e))
    await appendFile(
      file,
      `${JSON.stringify(auditEvent('new-1'))}\n${JSON.stringify(auditEvent('new-2')).slice(0, 30)}`,
    )
    await sleep(100)
    expect(seen.map((e) => e.auditID)).toEqual(['new-1'])
    // the second line completes later: it is delivered only once whole
    await appendFile(file, `${JSON.stringify(auditEvent('new-2')).slice(30)}\n`)
    await sleep(100)
    await tail.stop()
    expect(seen.map((e) => [e.auditID, e.origin?.line])).toEqual([
      ['new-1', 2],
      ['new-2', 3],
    ])
  })

  it('reports unparsable lines through onError and keeps going', async () => {
    const file = join(dir, 'audit2.log')
    await writeFile(file, '')
    const seen: string[] = []
    const errs: Error[] = []
    const tail = new AuditLogTailCollector({
      file,
      pollMs: 20,
      fromStart: true,
      onError: (e) => errs.push(e),
    })
    await tail.start((e) => seen.push(e.auditID ?? ''))
    await appendFile(file, `garbage\n${JSON.stringify(auditEvent('after'))}\n`)
    await sleep(100)
    await tail.stop()
    expect(errs).toHaveLength(1)
    expect(seen).toEqual(['after'])
  })
})
