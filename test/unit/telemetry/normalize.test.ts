import { describe, expect, it } from 'vitest'
import { PurpleError } from '../../../src/errors.js'
import { getField } from '../../../src/telemetry/event.js'
import { detectSource, normalize, parseLine } from '../../../src/telemetry/normalize.js'
import { fixtureText, readEvents } from './fixtures.js'

function thrown(fn: () => unknown): PurpleError {
  try {
    fn()
  } catch (error) {
    if (error instanceof PurpleError) return error
    throw error
  }
  throw new Error('expected a PurpleError')
}

describe('k8s-audit', () => {
  const events = readEvents('k8s-audit.jsonl', 'k8s-audit')

  it('builds one event per line with the envelope, audit ID, origin and stage time', () => {
    expect(events).toHaveLength(10)
    const [started] = events
    expect(started).toMatchObject({
      source: 'k8s-audit',
      sourcetype: 'kubernetes:api',
      index: 'containers',
      auditID: 'a0000001-0000-4000-8000-000000000001',
      time: '2026-11-27T10:00:00.500000Z',
      timeMs: Date.parse('2026-11-27T10:00:00.500Z'),
      origin: { file: 'k8s-audit.jsonl', line: 1 },
    })
    expect(getField(started!, 'objectRef.subresource')).toBe('exec')
    expect(getField(started!, 'user.username')).toBe('kubernetes-admin')
  })

  it('falls back to requestReceivedTimestamp and honours ctx.index', () => {
    const [e] = normalize(
      'k8s-audit',
      { auditID: 'x', verb: 'get', requestReceivedTimestamp: '2026-11-27T10:00:00Z' },
      { index: 'lab' },
    )
    expect(e).toMatchObject({ time: '2026-11-27T10:00:00Z', index: 'lab' })
  })

  it('splits a webhook EventList body into one event per item', () => {
    const list = readEvents('k8s-audit-eventlist.json', 'k8s-audit')
    expect(list.map((e) => e.auditID)).toEqual([
      'a0000001-0000-4000-8000-000000000001',
      'a0000002-0000-4000-8000-000000000002',
    ])
    expect(list.every((e) => e.origin?.line === 1)).toBe(true)
  })

  it('rejects records that are not audit events, naming file, line and field', () => {
    const bad = (text: string) =>
      thrown(() => parseLine(text, 'k8s-audit', { origin: { file: 'audit.log', line: 7 } }))
    expect(bad('{"kind":"Event","verb":"get","stageTimestamp":"2026-11-27T10:00:00Z"}').message).toMatch(
      /^audit\.log:7: .*'auditID' is missing/,
    )
    expect(bad('{"kind":"Pod"}').message).toContain("'kind' must be Event or EventList")
    expect(bad('{"auditID":"x","stageTimestamp":"yesterday"}').message).toContain("'stageTimestamp' must be")
    expect(bad('{"kind":"EventList","items":[{"auditID":"x"}]}').message).toContain(
      "'items[0].stageTimestamp'",
    )
    expect(bad('{"auditID": ').code).toBe('PURPLE_EVENTS_INVALID')
    expect(bad('not json').message).toMatch(/^audit\.log:7: not a valid k8s-audit record/)
  })
})

describe('derived Command for k8s-audit', () => {
  const byAudit = new Map(readEvents('k8s-audit.jsonl', 'k8s-audit').map((e) => [e.auditID, e]))
  const command = (n: number) =>
    getField(byAudit.get(`a000000${n}-0000-4000-8000-00000000000${n}`)!, 'Command')

  it('decodes the exec command= values in order and adds the kubectl form for kubectl clients', () => {
    expect(command(1)).toEqual([
      'kubectl exec',
      'kubectl exec victim',
      'curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    ])
  })

  it('gives only the in-container command when the exec client is not kubectl', () => {
    expect(command(7)).toEqual(['curl http://169.254.169.254/latest/meta-data/iam/security-credentials/'])
  })

  it('maps kubectl secret reads and pod logs, and nothing else', () => {
    expect(command(2)).toEqual(['kubectl get secrets'])
    expect(command(3)).toEqual(['kubectl get secret', 'kubectl get secret canary-db'])
    expect(command(8)).toEqual(['kubectl logs', 'kubectl logs victim'])
    for (const n of [4, 5, 6, 9]) expect(command(n)).toBeUndefined()
  })

  it('treats + as a space and decodes %XX (malformed escapes are kept)', () => {
    const [e] = normalize('k8s-audit', {
      auditID: 'y',
      stageTimestamp: '2026-11-27T10:00:00Z',
      verb: 'create',
      requestURI:
        '/api/v1/namespaces/a/pods/p/exec?command=sh&command=-c&command=cat+%2Fvar%2Frun%2Fx%20y%ZZ',
      objectRef: { resource: 'pods', subresource: 'exec', name: 'p' },
    })
    expect(getField(e!, 'Command')).toEqual(['sh -c cat /var/run/x y%ZZ'])
  })
})

describe('docker-events', () => {
  const events = readEvents('docker-events.jsonl', 'docker-events')

  it('aliases action, container_name and image, and takes the time from timeNano', () => {
    const [create] = events
    expect(create).toMatchObject({ source: 'docker-events', sourcetype: 'docker:events' })
    expect(create!.derived).toEqual({
      action: 'create',
      container_name: 'victim',
      image: 'purplekind/victim:local',
    })
    expect(create!.time).toBe('2026-11-27T10:00:00.123Z')
  })

  it('derives Command from exec_create/exec_start and keeps the full Action in raw', () => {
    expect(getField(events[1]!, 'action')).toBe('exec_create')
    expect(getField(events[1]!, 'Action')).toBe('exec_create: sh -c id')
    expect(getField(events[1]!, 'Command')).toEqual(['sh -c id'])
    expect(getField(events[2]!, 'Command')).toEqual(['sh -c id'])
    expect(getField(events[3]!, 'Command')).toBeUndefined()
  })

  it('never invents a user: engine events have none', () => {
    for (const e of events) expect(getField(e, 'user')).toBeUndefined()
  })

  it('gives non-container events no container aliases', () => {
    expect(events[4]!.derived).toEqual({ action: 'connect' })
  })

  it('accepts the deprecated status/id/from form and seconds-only time', () => {
    const [e] = normalize('docker-events', { status: 'start', id: 'abc', from: 'alpine', time: 1795773600 })
    expect(e!.derived).toEqual({ action: 'start', image: 'alpine' })
    expect(e!.timeMs).toBe(1795773600000)
  })

  it('rejects a record without Action or time', () => {
    expect(thrown(() => normalize('docker-events', { Type: 'container' })).message).toContain("'Action'")
    expect(thrown(() => normalize('docker-events', { Action: 'create' })).message).toContain("'timeNano'")
  })
})

describe('docker-api', () => {
  it('reads the logging proxy records and derives docker logs / docker exec', () => {
    const events = readEvents('docker-api.jsonl', 'docker-api')
    expect(events.map((e) => getField(e, 'Command'))).toEqual([
      undefined, // GET …/json: `docker logs` and `docker exec` inspect too, so no command is implied
      ['docker logs', 'docker logs victim'],
      ['docker exec', 'docker exec victim'],
      undefined,
    ])
    expect(events.map((e) => getField(e, 'container_name'))).toEqual([
      'victim',
      'victim',
      'victim',
      undefined,
    ])
    expect(events[1]).toMatchObject({ sourcetype: 'docker:api', time: '2026-11-27T08:10:01.130Z' })
  })

  it('parses dockerd debug lines into the same shape and skips non-API daemon lines', () => {
    const events = readEvents('dockerd-debug.log', 'docker-api')
    expect(events.map((e) => e.raw)).toEqual([
      { time: '2026-11-27T08:10:01.123456789Z', method: 'HEAD', path: '/_ping' },
      {
        time: '2026-11-27T08:10:01.123456789Z',
        method: 'GET',
        path: '/v1.41/containers/victim/logs',
        query: 'stderr=1&stdout=1',
      },
      { time: '2026-11-27T08:10:02.000000000Z', method: 'POST', path: '/v1.41/containers/victim/exec' },
    ])
    expect(getField(events[1]!, 'Command')).toEqual(['docker logs', 'docker logs victim'])
    expect(events[1]!.origin).toEqual({ file: 'dockerd-debug.log', line: 2 })
  })

  it('accepts dockerd JSON-format log lines', () => {
    const line =
      '{"level":"debug","msg":"Calling GET /v1.41/containers/db/logs?stdout=1","time":"2026-11-27T08:10:01Z"}'
    const [e] = parseLine(line, 'docker-api')
    expect(getField(e!, 'Command')).toEqual(['docker logs', 'docker logs db'])
  })

  it('rejects text that is neither JSON nor a daemon log line, naming file:line', () => {
    const err = thrown(() =>
      parseLine('GET /containers/x/logs', 'docker-api', { origin: { file: 'd.log', line: 3 } }),
    )
    expect(err.code).toBe('PURPLE_EVENTS_INVALID')
    expect(err.message).toMatch(/^d\.log:3: not a valid docker-api record/)
    expect(
      thrown(() => normalize('docker-api', { time: 'x', method: 'GET', path: 'no-slash' })).message,
    ).toContain("'path'")
  })
})

describe('container-logs', () => {
  it('reads Docker json-file lines with the container from ctx, dropping the trailing newline', () => {
    const events = readEvents('victim-json.log', 'container-logs', { container: 'victim' })
    expect(events.map((e) => e.raw)).toEqual([
      { container: 'victim', stream: 'stdout', line: 'starting app', time: '2026-11-27T08:09:00.000000001Z' },
      {
        container: 'victim',
        stream: 'stderr',
        line: 'AWS_SECRET_ACCESS_KEY=canary-value loaded',
        time: '2026-11-27T08:09:00.5Z',
      },
    ])
    expect(events[0]).toMatchObject({
      sourcetype: 'kubernetes:container',
      derived: { container_name: 'victim' },
    })
  })

  it('reads collector records, keeping their extra keys', () => {
    const [e] = readEvents('container-logs.jsonl', 'container-logs')
    expect(e!.raw).toEqual({
      time: '2026-11-27T08:09:00.000Z',
      container: 'victim',
      stream: 'stdout',
      line: 'listening on :8080',
      containerId: '9f1c',
      runId: 'run-1',
    })
  })

  it('rejects a json-file line when no container name is known', () => {
    const err = thrown(() => readEvents('victim-json.log', 'container-logs'))
    expect(err.message).toMatch(/^victim-json\.log:1: .*'container' is missing/)
  })
})

describe('detectSource', () => {
  it.each([
    ['k8s-audit.jsonl', 'k8s-audit'],
    ['k8s-audit-eventlist.json', 'k8s-audit'],
    ['docker-events.jsonl', 'docker-events'],
    ['docker-api.jsonl', 'docker-api'],
    ['dockerd-debug.log', 'docker-api'],
    ['victim-json.log', 'container-logs'],
    ['container-logs.jsonl', 'container-logs'],
  ] as const)('recognizes %s as %s', (file, source) => {
    expect(detectSource(`\n\n${fixtureText(file)}`)).toBe(source)
  })

  it('reads a pretty-printed EventList and gives up on unknown shapes', () => {
    expect(
      detectSource('{\n  "kind": "EventList",\n  "apiVersion": "audit.k8s.io/v1",\n  "items": []\n}'),
    ).toBe('k8s-audit')
    expect(detectSource('{"hello":"world"}')).toBeUndefined()
    expect(detectSource('plain text')).toBeUndefined()
    expect(detectSource('   \n')).toBeUndefined()
  })
})
