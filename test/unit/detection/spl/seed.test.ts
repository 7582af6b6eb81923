// The seed's two analytics (ATT&CK T1552.007 page) parsed as written, over realistic telemetry.
import { describe, expect, it } from 'vitest'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'
import { normalize } from '../../../../src/telemetry/normalize.js'
import { readEvents } from '../../telemetry/fixtures.js'
import { audit, rule, ruleFile } from './helpers.js'

const k8sEvents = readEvents('k8s-audit.jsonl', 'k8s-audit')
// Fixture audit IDs are a000000N-…; exec (N=1) has two stage events, the others one.
const auditEvent = (n: number) =>
  k8sEvents.find((e) => e.auditID?.startsWith(`a000000${n}`)) as TelemetryEvent
const dockerEvents = readEvents('docker-events.jsonl', 'docker-events')
const dockerApi = readEvents('docker-api.jsonl', 'docker-api')

describe('seed Analytic A (User Account Authentication)', () => {
  const a = ruleFile('analytic-a.spl')

  it('takes id from the file name and metadata from the header comments', () => {
    expect(a).toMatchObject({
      id: 'analytic-a',
      title: 'Seed Analytic A (User Account Authentication)',
      language: 'spl',
      level: 'medium',
      tags: ['attack.t1552.007', 'attack.credential-access'],
      sources: ['k8s-audit', 'docker-events'],
    })
    expect(a.prefilter).toBeUndefined() // every branch tests a derived alias, != or envelope field
  })

  it('fires on pod/secret create, patch and delete by a human', () => {
    expect(a.match(auditEvent(4))).toBe(true) // create pod by kubernetes-admin
    expect(a.match(auditEvent(6))).toBe(true) // delete secret by kubernetes-admin
  })

  it('stays quiet for service accounts and for reads', () => {
    expect(a.match(auditEvent(5))).toBe(false) // create pod by the replicaset controller
    expect(a.match(auditEvent(9))).toBe(false) // patch secret by a service account
    expect(a.match(auditEvent(2))).toBe(false) // list secrets: a read, not in the verb list
    expect(a.match(auditEvent(3))).toBe(false)
  })

  it('cannot fire on a docker create: engine events have no user, and != needs the field', () => {
    const create = dockerEvents[0] as TelemetryEvent
    expect(create.derived.action).toBe('create')
    expect(a.match(create)).toBe(false)
    expect(a.nearMiss?.(create)).toEqual({
      rule: 'analytic-a',
      score: 0.8,
      field: 'user',
      expected: 'user!="root"',
      actual: undefined,
    })
    // The same clause written with NOT does match an event lacking the field.
    const withNot = rule(
      'index=containers sourcetype="docker:events" action="create" container_name="*" NOT user="root"',
    )
    expect(withNot.match(create)).toBe(true)
  })

  it('explains a service-account miss by the user.username test', () => {
    expect(a.nearMiss?.(auditEvent(5))).toMatchObject({
      field: 'user.username',
      expected: 'user.username!="system:serviceaccount:*"',
      actual: 'system:serviceaccount:kube-system:replicaset-controller',
      score: 0.8,
    })
    expect(a.nearMiss?.(auditEvent(4))).toBeUndefined()
  })
})

describe('seed Analytic B (Command Execution), IMDS URL re-fanged', () => {
  const b = ruleFile('analytic-b.spl')

  it('has no header, so the title is the id; sources come from the sourcetype list', () => {
    expect(b).toMatchObject({ id: 'analytic-b', title: 'analytic-b', tags: [] })
    expect(b.prefilter).toBeUndefined()
    expect(b.sources).toEqual(['k8s-audit', 'docker-events', 'container-logs'])
    expect(b.level).toBeUndefined()
  })

  it('fires on kubectl exec (both audit stages) and kubectl get secrets', () => {
    const execStages = k8sEvents.filter((e) => e.auditID?.startsWith('a0000001'))
    expect(execStages.map((e) => e.raw.stage)).toEqual(['ResponseStarted', 'ResponseComplete'])
    for (const e of execStages) expect(b.match(e)).toBe(true)
    expect(b.match(auditEvent(2))).toBe(true)
  })

  it('fires on the exact IMDS curl command even from a non-kubectl client', () => {
    expect(b.match(auditEvent(7))).toBe(true)
    const withFlag = audit({
      verb: 'get',
      userAgent: 'purplekind/0.1.0',
      objectRef: { resource: 'pods', subresource: 'exec', name: 'victim' },
      requestURI:
        '/api/v1/namespaces/t1552/pods/victim/exec?command=curl&command=-s&command=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2Fiam%2Fsecurity-credentials%2F',
    })
    // IN compares whole values: `curl -s http://…` is not `curl http://…`.
    expect(b.match(withFlag)).toBe(false)
  })

  it('cannot see kubectl describe secret: its gets look like kubectl get secret X', () => {
    expect(auditEvent(3).derived.Command).toEqual(['kubectl get secret', 'kubectl get secret canary-db'])
    expect(b.match(auditEvent(3))).toBe(false)
  })

  it('misses the docker logs API call: docker:api is not in its sourcetype list', () => {
    const logs = dockerApi[1] as TelemetryEvent
    expect(logs.derived.Command).toContain('docker logs')
    expect(b.match(logs)).toBe(false)
    expect(b.nearMiss?.(logs)).toMatchObject({ field: 'sourcetype', actual: 'docker:api' })
    const widened = rule(
      'index=containers sourcetype IN ("docker:api", "docker:events") | search Command IN ("docker logs")',
    )
    expect(widened.match(logs)).toBe(true)
  })

  it('does not fire on other docker exec commands or on container logs', () => {
    for (const e of dockerEvents) expect(b.match(e)).toBe(false)
    const [log] = normalize('container-logs', {
      time: '2026-11-27T08:09:00Z',
      container: 'victim',
      log: 'kubectl get secrets',
    })
    expect(b.match(log as TelemetryEvent)).toBe(false) // log text is not a Command
  })
})
