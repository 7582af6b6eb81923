import { describe, expect, it } from 'vitest'
import { correlate, dockerTargets } from '../../../src/run/correlate.js'
import { normalize } from '../../../src/telemetry/normalize.js'
import { auditEvent } from './helpers.js'

const t0 = Date.parse('2026-11-27T10:00:01.000Z')
const trace = {
  tool: 'kubectl',
  identity: 'mallory@example.com',
  sentAt: t0 - 100,
  endedAt: t0 + 200,
  auditIDs: [] as string[],
}

describe('correlate', () => {
  it('prefers the Audit-ID the harness sent over everything else', () => {
    const mine = auditEvent({
      auditID: 'sent-1',
      impersonatedUser: undefined,
      user: { username: 'system:serviceaccount:a:b' },
    })
    const other = auditEvent({ auditID: 'other' })
    const r = correlate({ ...trace, auditIDs: ['sent-1'] }, [other, mine], new Set())
    expect(r).toEqual({ events: [mine], method: 'audit-id' })
  })

  it('uses the impersonation-extra marker when the action carried one', () => {
    const marked = auditEvent({
      auditID: 'm',
      impersonatedUser: { username: 'mallory@example.com', extra: { 'purplekind.io/step': ['mk-1'] } },
    })
    const unmarked = auditEvent({ auditID: 'u' })
    const r = correlate({ ...trace, marker: 'mk-1' }, [unmarked, marked], new Set())
    expect(r).toEqual({ events: [marked], method: 'marker' })
  })

  it("ties a user step to its events by its own certificate's credential id (no impersonation)", () => {
    const own = (auditID: string, credential: string) =>
      auditEvent({
        auditID,
        impersonatedUser: undefined,
        user: {
          username: 'mallory@example.com',
          groups: ['developers', 'system:authenticated'],
          extra: { 'authentication.kubernetes.io/credential-id': [credential] },
        },
      })
    const mine = own('m', 'X509SHA256=aa11')
    // The same user, same window, another step's certificate: not this step's.
    const sibling = own('s', 'X509SHA256=bb22')
    const r = correlate({ ...trace, marker: 'X509SHA256=aa11' }, [sibling, mine], new Set())
    expect(r).toEqual({ events: [mine], method: 'marker' })
  })

  it("ties a token step by the token's JTI, and falls back to the window where none is recorded", () => {
    const sa = 'system:serviceaccount:purple-app:web'
    const used = auditEvent({
      auditID: 't',
      impersonatedUser: undefined,
      user: {
        username: sa,
        extra: {
          'authentication.kubernetes.io/credential-id': ['JTI=j-1'],
          'authentication.kubernetes.io/pod-name': ['web-0'],
        },
      },
    })
    const byJti = correlate({ ...trace, identity: sa, marker: 'JTI=j-1' }, [used], new Set())
    expect(byJti).toEqual({ events: [used], method: 'marker' })
    const noJti = auditEvent({ auditID: 'n', impersonatedUser: undefined, user: { username: sa } })
    const fallback = correlate({ ...trace, identity: sa, marker: 'JTI=j-2' }, [noJti], new Set())
    expect(fallback).toEqual({ events: [noJti], method: 'window' })
  })

  it('falls back to time window plus actor, never counting harness traffic or other identities', () => {
    const hit = auditEvent({ auditID: 'a' })
    const harness = auditEvent({ auditID: 'h' })
    const otherUser = auditEvent({ auditID: 'o', impersonatedUser: { username: 'bob' } })
    const late = auditEvent({ auditID: 'l' }, '2026-11-27T10:00:09.000000Z')
    const r = correlate(trace, [hit, harness, otherUser, late], new Set(['h']))
    expect(r).toEqual({ events: [hit], method: 'window' })
  })

  it('attributes a service-account request by its own username', () => {
    const sa = auditEvent({
      auditID: 's',
      impersonatedUser: undefined,
      user: { username: 'system:serviceaccount:purple-app:web' },
    })
    const r = correlate({ ...trace, identity: 'system:serviceaccount:purple-app:web' }, [sa], new Set())
    expect(r.method).toBe('window')
  })

  it('ties docker API records to a docker action by the objects the command names', () => {
    const rec = (path: string, container?: string) =>
      normalize('docker-api', {
        time: '2026-11-27T10:00:01.000Z',
        method: 'GET',
        path,
        status: 200,
        ...(container ? { container } : {}),
      })[0]!
    const victim = rec('/v1.41/containers/abc/logs', 'purple-victim')
    const quiet = rec('/v1.41/containers/def/logs', 'purple-quiet')
    const argv = ['docker', 'logs', '--tail', '5', 'purple-victim']
    expect(dockerTargets(argv)).toEqual(['5', 'purple-victim'])
    const r = correlate(
      { ...trace, tool: 'docker', identity: 'docker', targets: ['purple-victim'] },
      [victim, quiet],
      new Set(),
    )
    expect(r.events).toEqual([victim])
  })

  it('returns nothing (method none) when no telemetry can be tied to the action', () => {
    expect(correlate(trace, [], new Set())).toEqual({ events: [], method: 'none' })
  })
})

describe('correlate with an exact key', () => {
  it('never falls back to the window when the action carried a marker or an Audit-ID', () => {
    const earlier = auditEvent({ auditID: 'prev' }, '2026-11-27T10:00:00.950000Z')
    expect(correlate({ ...trace, marker: 'mk-9' }, [earlier], new Set())).toEqual({
      events: [],
      method: 'none',
    })
    expect(correlate({ ...trace, auditIDs: ['x'] }, [earlier], new Set())).toEqual({
      events: [],
      method: 'none',
    })
  })

  it('ignores an event stamped before the action was sent', () => {
    const before = auditEvent({ auditID: 'b' }, '2026-11-27T10:00:00.700000Z')
    expect(correlate(trace, [before], new Set()).method).toBe('none')
  })
})
