import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../../src/detection/engine.js'
import { loadRules } from '../../../src/detection/load-rules.js'
import {
  ALERTS_TOKEN_ENV,
  type AlertIntake,
  AlertPayloadError,
  ExternalAlerts,
  isLoopback,
  parseAlertPayload,
  RateLimitedNote,
  startAlertIntake,
  suppliedIntakeToken,
} from '../../../src/run/alert-intake.js'
import { TelemetryBus } from '../../../src/run/telemetry-bus.js'
import { auditEvent, step } from './helpers.js'

const receivedAt = new Date('2026-11-27T10:00:02.500Z')
const falcoAlert = {
  hostname: 'falco-k8saudit-0',
  priority: 'Notice',
  rule: 'Attach/Exec Pod',
  source: 'k8s_audit',
  tags: ['k8s', 'T1609'],
  time: '2026-11-27T10:00:01.100000000Z',
  output: '10:00:01.100000000: Notice Attach/Exec to pod (user=mallory pod=victim)',
  output_fields: { 'evt.time': 1795773601100000000, 'ka.auditid': 'id-1', 'ka.user.name': 'mallory' },
}

describe('parseAlertPayload', () => {
  it('turns a Falco alert into an Alert: own time, receive time, audit ID, priority, tags', () => {
    const [a, ...rest] = parseAlertPayload(JSON.stringify(falcoAlert), { receivedAt })
    expect(rest).toEqual([])
    expect(a).toEqual({
      rule: 'Attach/Exec Pod',
      title: 'Attach/Exec Pod',
      level: 'Notice',
      tags: ['k8s', 'T1609'],
      auditID: 'id-1',
      time: '2026-11-27T10:00:01.100Z',
      alertTime: '2026-11-27T10:00:02.500Z',
      pipeline: 'falco',
    })
  })

  it('reads JSON lines and arrays, and takes the pipeline from the query or the alert itself', () => {
    const lines = `${JSON.stringify(falcoAlert)}\n\n${JSON.stringify({ rule: 'r2', pipeline: 'elastic' })}\n`
    const alerts = parseAlertPayload(lines, { receivedAt, pipeline: 'splunk' })
    expect(alerts.map((a) => [a.rule, a.pipeline])).toEqual([
      ['Attach/Exec Pod', 'splunk'],
      ['r2', 'elastic'],
    ])
    const arr = parseAlertPayload(JSON.stringify([{ rule: 'a' }, { rule: 'b' }]), { receivedAt })
    expect(arr.map((a) => a.rule)).toEqual(['a', 'b'])
  })

  it('reads the generic shape; a missing time is the receive time; epoch ns and ms are accepted', () => {
    const [g] = parseAlertPayload(
      JSON.stringify({ rule: 'siem-secrets', auditID: 'abc', title: 'Secrets listed', level: 'high' }),
      { receivedAt },
    )
    expect(g).toMatchObject({
      rule: 'siem-secrets',
      title: 'Secrets listed',
      level: 'high',
      auditID: 'abc',
      pipeline: 'external',
      time: receivedAt.toISOString(),
    })
    const ns = parseAlertPayload(JSON.stringify({ rule: 'r', time: 1795773601100000000 }), { receivedAt })
    const ms = parseAlertPayload(JSON.stringify({ rule: 'r', time: 1795773601100 }), { receivedAt })
    expect(ns[0]?.time).toBe(ms[0]?.time)
  })

  it('names what is wrong: bad JSON line, missing rule, wrong types, bad time, reserved pipeline', () => {
    const bad = (body: string, pipeline?: string) => () =>
      parseAlertPayload(body, { receivedAt, ...(pipeline ? { pipeline } : {}) })
    expect(bad('{"rule":"a"}\n{oops')).toThrow(/line 2: not valid JSON/)
    expect(bad('{"title":"x"}')).toThrow(/body: field "rule" is missing or empty/)
    expect(bad('[{"rule":"a"},{"rule":5}]')).toThrow(/item 1: field "rule" must be a string/)
    expect(bad('{"rule":"a","time":"yesterday"}')).toThrow(/field "time" is not an ISO 8601 time/)
    expect(bad('{"rule":"a","fields":[1]}')).toThrow(/field "fields" must be an object/)
    expect(bad('{"rule":"a"}', 'builtin')).toThrow(/reserved/)
    expect(bad('{"rule":"a"}', 'has space')).toThrow(/pipeline "has space"/)
    expect(bad('  ')).toThrow(/empty body/)
    expect(bad('[1]')).toThrow(AlertPayloadError)
  })
})

describe('ExternalAlerts attribution', () => {
  const window = {
    sentAt: Date.parse('2026-11-27T10:00:00.900Z'),
    endedAt: Date.parse('2026-11-27T10:00:01.200Z'),
    budgetMs: 5000,
  }
  const attack = step({ expect: { alerts: ['Attach/Exec Pod'] } })
  const external = (over: Record<string, unknown> = {}) => {
    const [a] = parseAlertPayload(JSON.stringify({ ...falcoAlert, ...over }), { receivedAt })
    if (!a) throw new Error('no alert')
    return a
  }
  const newBus = () => new TelemetryBus(new Engine({ rules: [], correlations: [] }))

  it('links an alert to the audit event that is already on the bus (audit-id)', () => {
    const bus = newBus()
    const ext = new ExternalAlerts()
    ext.attach(bus)
    const event = auditEvent()
    bus.push(event)
    ext.add(external())
    const got = ext.alertsFor([event], attack, window, { final: true })
    expect(got).toHaveLength(1)
    expect(got[0]).toMatchObject({ rule: 'Attach/Exec Pod', correlation: 'audit-id', pipeline: 'falco' })
    expect(got[0]?.evidence).toBe(event)
    expect(bus.alerts).toHaveLength(1)
    expect(ext.unattributed()).toEqual([])
  })

  it('reports a linked alert whose event no step took as unattributed', () => {
    const bus = newBus()
    const ext = new ExternalAlerts()
    ext.attach(bus)
    bus.push(auditEvent())
    ext.add(external())
    expect(ext.alertsFor([], attack, window, { final: true })).toEqual([])
    expect(ext.unattributed().map((a) => [a.rule, a.correlation])).toEqual([['Attach/Exec Pod', 'audit-id']])
  })

  it('re-links an alert that arrived before its audit event, once the event is on the bus', () => {
    const bus = newBus()
    const ext = new ExternalAlerts()
    ext.add(external()) // before attach: queued
    ext.attach(bus)
    expect(bus.alerts).toHaveLength(0) // held until its event shows up
    const event = auditEvent()
    bus.push(event)
    const got = ext.alertsFor([event], attack, window)
    expect(got.map((a) => a.correlation)).toEqual(['audit-id'])
    expect(got[0]?.evidence).toBe(event)
    expect(bus.alerts).toHaveLength(1)
  })

  it('attributes an unlinked alert by time window only when the step names its rule, and only once', () => {
    const bus = newBus()
    const ext = new ExternalAlerts()
    ext.attach(bus)
    ext.add(external({ output_fields: {} })) // no audit ID
    const other = step({ expect: { alerts: ['some-other-rule'] } })
    expect(ext.alertsFor([], other, window)).toEqual([])
    const late = { ...window, sentAt: window.endedAt + window.budgetMs + 1, endedAt: window.endedAt + 9000 }
    expect(ext.alertsFor([], attack, late)).toEqual([])
    const got = ext.alertsFor([], attack, window, { final: true })
    expect(got.map((a) => [a.rule, a.correlation])).toEqual([['Attach/Exec Pod', 'window']])
    // Claimed by that step: a later step naming the same rule does not count it again.
    expect(ext.alertsFor([], attack, window)).toEqual([])
    expect(ext.unattributed()).toEqual([])
  })

  it('benign steps take window alerts only for rules they list as silent', () => {
    const bus = newBus()
    const ext = new ExternalAlerts()
    ext.attach(bus)
    ext.add(external({ output_fields: {} }))
    const silentAll = step({ kind: 'benign', expect: { silent: 'all' } })
    expect(ext.alertsFor([], silentAll, window)).toEqual([])
    const silentListed = step({ kind: 'benign', expect: { silent: ['Attach/Exec Pod'] } })
    expect(ext.alertsFor([], silentListed, window)).toHaveLength(1)
  })

  it('with builtin: false, drops the built-in alerts on the step and keeps the external ones', async () => {
    const rules = await loadRules(['detections'])
    const event = auditEvent()
    for (const builtin of [true, false]) {
      const bus = new TelemetryBus(new Engine(rules))
      const ext = new ExternalAlerts({ builtin })
      ext.attach(bus)
      bus.push(event)
      ext.add(external())
      const pipelines = ext.alertsFor([event], attack, window).map((a) => a.pipeline)
      expect(pipelines).toContain('falco')
      expect(pipelines.includes('builtin')).toBe(builtin)
    }
  })
})

describe('alert intake HTTP server', () => {
  let dir = ''
  let intake: AlertIntake
  const ext = new ExternalAlerts()
  const logs: string[] = []
  const post = (
    body: string,
    o: { path?: string; auth?: string; method?: string } = {},
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const url = new URL(o.path ?? '/alerts', intake.url)
      const req = request(
        url,
        {
          method: o.method ?? 'POST',
          headers: {
            'content-type': 'application/json',
            ...(o.auth === '' ? {} : { authorization: o.auth ?? `Bearer ${intake.token}` }),
          },
        },
        (res) => {
          let text = ''
          res.on('data', (c) => {
            text += c
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
        },
      )
      req.on('error', reject)
      req.end(body)
    })

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'intake-'))
    intake = await startAlertIntake({
      port: 0,
      tokenFile: path.join(dir, 'run', 'alerts.token'),
      alerts: ext,
      log: (l) => logs.push(l),
    })
  })
  afterAll(async () => {
    await intake.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('listens on loopback and writes a generated token to a 0600 file', async () => {
    expect(intake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/alerts$/)
    expect(intake.tokenFile).toBeDefined()
    expect((await readFile(intake.tokenFile ?? '', 'utf8')).trim()).toBe(intake.token)
    expect((await stat(intake.tokenFile ?? '')).mode & 0o777).toBe(0o600)
  })

  it('accepts Falco alerts with the bearer token or ?token= (Falco cannot set headers)', async () => {
    const before = ext.received
    const r = await post(JSON.stringify(falcoAlert))
    expect(r).toEqual({ status: 202, body: '{"accepted":1}\n' })
    const q = await post(`${JSON.stringify({ rule: 'x' })}\n${JSON.stringify({ rule: 'y' })}`, {
      path: `/alerts?token=${intake.token}&pipeline=splunk`,
      auth: '',
    })
    expect(q.status).toBe(202)
    expect(ext.received - before).toBe(3)
  })

  it('rejects a missing or wrong token (401), bad JSON (400, naming the problem), wrong path/method', async () => {
    const before = ext.received
    expect((await post(JSON.stringify(falcoAlert), { auth: '' })).status).toBe(401)
    expect((await post(JSON.stringify(falcoAlert), { auth: `Bearer ${intake.token}x` })).status).toBe(401)
    const bad = await post('{"rule": ')
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).error).toMatch(/line 1: not valid JSON/)
    const noRule = await post('{"priority":"Notice","output":"x"}')
    expect(JSON.parse(noRule.body).error).toBe('body: field "rule" is missing or empty')
    expect((await post('{}', { path: '/other' })).status).toBe(404)
    expect((await post('', { method: 'GET' })).status).toBe(405)
    expect(ext.received).toBe(before)
    expect(logs.some((l) => l.includes('(401)'))).toBe(true)
    expect(logs.join('\n')).not.toContain(intake.token)
  })

  it('treats only 127.0.0.0/8 and ::1 as loopback (the server also binds 127.0.0.1 only)', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true)
    for (const a of ['10.0.0.1', '::ffff:192.168.1.2', '128.0.0.1', '', undefined])
      expect(isLoopback(a)).toBe(false)
  })

  it('refuses bad ports and short tokens with a usage error', async () => {
    await expect(startAlertIntake({ port: 70000, alerts: ext, log: () => {} })).rejects.toMatchObject({
      code: 'PURPLE_USAGE',
    })
    await expect(startAlertIntake({ port: 0, token: 'short', alerts: ext, log: () => {} })).rejects.toThrow(
      /at least 16/,
    )
  })

  it('logs a flood of bad-token requests as a few aggregated lines, not one per request', async () => {
    const before = logs.length
    const results = await Promise.all(
      Array.from({ length: 300 }, () => post(JSON.stringify(falcoAlert), { auth: 'Bearer wrong' })),
    )
    expect(results.every((r) => r.status === 401)).toBe(true)
    const lines = logs.slice(before).filter((l) => l.includes('(401)'))
    expect(lines.length).toBeLessThanOrEqual(2)
  })
})

describe('rate-limited notes', () => {
  it('writes the first at once and counts the rest into the next line or the flush', () => {
    const lines: string[] = []
    let now = 0
    const note = new RateLimitedNote(
      (l) => lines.push(l),
      (n) => `rejected ${n}`,
      10_000,
      () => now,
    )
    for (let i = 0; i < 1053; i++) {
      now = i * 19 // 1,053 requests over 20 s
      note.hit()
    }
    note.flush()
    expect(lines).toEqual(['rejected 1', 'rejected 527', 'rejected 525'])
    note.flush()
    expect(lines).toHaveLength(3)
  })
})

describe('intake token supplied by the user (never in argv)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'intake-token-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads an owner-only token file, and refuses one others can read', async () => {
    const file = path.join(dir, 'token')
    await writeFile(file, 'a-very-long-token-1234\n', { mode: 0o600 })
    expect(suppliedIntakeToken({ file, env: {} })).toBe('a-very-long-token-1234')
    await chmod(file, 0o644)
    expect(() => suppliedIntakeToken({ file, env: {} })).toThrow(/readable by others/)
    expect(() => suppliedIntakeToken({ file: path.join(dir, 'none'), env: {} })).toThrow(
      expect.objectContaining({ code: 'PURPLE_INPUT_NOT_FOUND' }),
    )
  })

  it('takes PURPLEKIND_ALERTS_TOKEN, checks its length, and is undefined when nothing is given', () => {
    expect(suppliedIntakeToken({ env: { [ALERTS_TOKEN_ENV]: 'from-the-environment-1' } })).toBe(
      'from-the-environment-1',
    )
    expect(() => suppliedIntakeToken({ env: { [ALERTS_TOKEN_ENV]: 'short' } })).toThrow(
      expect.objectContaining({ code: 'PURPLE_USAGE' }),
    )
    expect(suppliedIntakeToken({ env: {} })).toBeUndefined()
  })
})
