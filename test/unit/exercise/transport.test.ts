// The blue side's transport, with real HTTP on loopback: telemetry forwarded as Splunk HEC events and as
// JSON lines to a local server, tail-able files per source, and findings posted back per team.
import { once } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkSinkUrl, TelemetryFeed } from '../../../src/exercise/feed.js'
import { FindingBook, parseManualFinding, startFindingIntake } from '../../../src/exercise/intake.js'
import { Redactor } from '../../../src/redact/redactor.js'
import type { TelemetryEvent } from '../../../src/telemetry/event.js'
import { parseLine } from '../../../src/telemetry/normalize.js'

const SECRET = 'canary-secret-value-123456'
const auditLine = (id: string, user: string) =>
  JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/purple-app/secrets?token=${SECRET}`,
    verb: 'list',
    user: { username: user },
    objectRef: { resource: 'secrets', namespace: 'purple-app' },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: '2026-11-30T10:00:00.000000Z',
    stageTimestamp: '2026-11-30T10:00:00.100000Z',
  })

interface Received {
  path: string
  auth: string | undefined
  type: string | undefined
  body: string
}
const received: Received[] = []
let base = ''
const server = createServer(async (req: IncomingMessage, res) => {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  received.push({
    path: req.url ?? '',
    auth: req.headers.authorization,
    type: req.headers['content-type'],
    body: Buffer.concat(chunks).toString(),
  })
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}')
})

beforeAll(async () => {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('telemetry feed', () => {
  it('writes a file per source and forwards HEC events and JSON lines, all redacted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pk-feed-'))
    const redactor = new Redactor({ secrets: [SECRET] })
    const feed = await TelemetryFeed.open(dir, redactor, [
      { format: 'hec', url: `${base}/services/collector/event`, token: 'hec-token-1' },
      { format: 'jsonl', url: `${base}/ingest` },
    ])
    const events = [auditLine('id-1', 'alice'), auditLine('id-2', 'bob')].flatMap((l) =>
      parseLine(l, 'k8s-audit'),
    ) as TelemetryEvent[]
    for (const e of events) feed.push(e)
    await feed.close()
    const file = readFileSync(path.join(dir, 'telemetry', 'k8s-audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
    expect(file).toHaveLength(2)
    expect(JSON.parse(file[0] as string).auditID).toBe('id-1')
    const hec = received.find((r) => r.path === '/services/collector/event') as Received
    expect(hec.auth).toBe('Splunk hec-token-1')
    // HEC: JSON objects one after another, each with time (epoch s), sourcetype and the raw event.
    const hecEvents = hec.body.split('\n').map((l) => JSON.parse(l))
    expect(hecEvents).toHaveLength(2)
    expect(hecEvents[0]).toMatchObject({
      sourcetype: 'kubernetes:api',
      source: 'k8s-audit',
      index: 'containers',
    })
    expect(hecEvents[0].time).toBeCloseTo(Date.parse('2026-11-30T10:00:00.100Z') / 1000, 0)
    expect(hecEvents[1].event.auditID).toBe('id-2')
    const jsonl = received.find((r) => r.path === '/ingest') as Received
    expect(jsonl.type).toBe('application/x-ndjson')
    expect(
      jsonl.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).event.user.username),
    ).toEqual(['alice', 'bob'])
    for (const text of [hec.body, jsonl.body, ...file]) expect(text).not.toContain(SECRET)
    expect(feed.stats().sinks.map((s) => s.sent)).toEqual([2, 2])
  })

  it('keeps events for a failing endpoint and forwards only to loopback', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pk-feed-'))
    const feed = await TelemetryFeed.open(dir, new Redactor(), [
      { format: 'jsonl', url: 'http://127.0.0.1:9/down' },
    ])
    feed.push(parseLine(auditLine('id-3', 'carol'), 'k8s-audit')[0] as TelemetryEvent)
    await feed.close()
    expect(feed.stats().sinks[0]).toMatchObject({ sent: 0 })
    expect(feed.stats().sinks[0]?.failures).toBeGreaterThan(0)
    expect(() => checkSinkUrl('http://10.0.0.5:8088/services/collector')).toThrow(/loopback endpoints only/)
    expect(() => checkSinkUrl('file:///etc/passwd')).toThrow(/http/)
    expect(checkSinkUrl('http://localhost:8088/x').port).toBe('8088')
  })
})

describe('findings intake', () => {
  it('takes alerts and hand-written findings per team token, and refuses others', async () => {
    const book = new FindingBook()
    const intake = await startFindingIntake({
      port: 0,
      teams: { red: 'red-token-aaaaaaaaaaaa', blue: 'blue-token-bbbbbbbbbbb' },
      book,
      now: () => 1_000,
      log: () => undefined,
    })
    try {
      const post = (p: string, token: string | undefined, body: unknown) =>
        fetch(`${intake.url}${p}`, {
          method: 'POST',
          headers: token ? { authorization: `Bearer ${token}` } : {},
          body: typeof body === 'string' ? body : JSON.stringify(body),
        })
      const falco = {
        priority: 'Warning',
        rule: 'secrets listed',
        time: '2026-11-30T10:00:00.1Z',
        tags: ['k8s', 'T1552.007'],
        output: 'x',
        output_fields: { 'ka.auditid': 'id-1', 'ka.user.name': 'mallory@example.com' },
      }
      expect((await post('/alerts', 'red-token-aaaaaaaaaaaa', falco)).status).toBe(202)
      const manual = await post('/findings', 'blue-token-bbbbbbbbbbb', {
        time: '2026-11-30T10:00:05Z',
        actor: 'mallory',
        technique: 't1552.007',
        note: 'secrets dumped',
      })
      expect(await manual.json()).toMatchObject({ accepted: 1 })
      expect((await post('/findings', 'wrong-token-cccccccccc', { time: 1 })).status).toBe(401)
      expect((await post('/findings', undefined, { time: 1 })).status).toBe(401)
      const bad = await post('/findings', 'blue-token-bbbbbbbbbbb', { time: 'yesterday', actor: 'x' })
      expect(bad.status).toBe(400)
      expect((await post('/alerts', 'blue-token-bbbbbbbbbbb', '{"no rule": 1}')).status).toBe(400)
      expect(book.findings).toEqual([
        {
          id: 'f001',
          team: 'red',
          via: 'alert',
          receivedAt: 1_000,
          time: Date.parse('2026-11-30T10:00:00.1Z'),
          rule: 'secrets listed',
          auditID: 'id-1',
          actor: 'mallory@example.com',
          technique: 'T1552.007',
        },
        {
          id: 'f002',
          team: 'blue',
          via: 'manual',
          receivedAt: 1_000,
          time: Date.parse('2026-11-30T10:00:05Z'),
          actor: 'mallory',
          technique: 'T1552.007',
          note: 'secrets dumped',
        },
      ])
    } finally {
      await intake.stop()
    }
  })

  it('a hand-written finding needs a time and something to match on', () => {
    expect(() => parseManualFinding('{"time":"2026-11-30T10:00:00Z"}')).toThrow(/at least one/)
    expect(() => parseManualFinding('{"time":"2026-11-30T10:00:00Z","technique":"X1"}')).toThrow(/technique/)
    expect(parseManualFinding('{"time":5,"auditID":"a"}')).toEqual({ time: 5, auditID: 'a' })
  })
})
