// Correlation rules: event_count, value_count, temporal, temporal_ordered; group-by, timespan,
// window reset after firing, chaining, `generate`, and rule ids.
import { describe, expect, it } from 'vitest'
import { parseSigma } from '../../../../src/detection/sigma/index.js'
import type { CompiledRule, RuleSet } from '../../../../src/detection/types.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'
import { at, auditEvent, execImds, secretGet, secretsList } from './helpers.js'

const BASE = `title: Secret read
id: 11111111-0000-4000-8000-000000000001
name: secret_read
logsource: {product: kubernetes, service: audit}
detection:
  sel:
    objectRef.resource: secrets
    verb: [get, list]
  condition: sel
---
title: Pod exec
id: 11111111-0000-4000-8000-000000000002
name: pod_exec
logsource: {product: kubernetes, service: audit}
detection:
  sel:
    objectRef.subresource: exec
  condition: sel
`

function load(correlation: string, base = BASE): RuleSet {
  return parseSigma(`${correlation}\n---\n${base}`, 'rules/mr_test.yml')
}

/** Feeds events in order through base rules and correlations (what the engine does); returns fire times. */
function run(set: RuleSet, events: TelemetryEvent[]): number[] {
  const fired: number[] = []
  for (const e of events) {
    for (const rule of set.rules) {
      if (!rule.match(e)) continue
      for (const c of set.correlations) {
        if (c.ruleRefs.includes(rule.id) && c.onMatch(rule.id, e))
          fired.push((e.timeMs - Date.parse('2026-01-01T00:00:00Z')) / 1000)
      }
    }
  }
  return fired
}

const user = (name: string, raw: Record<string, unknown>) => ({
  ...raw,
  user: { username: name, groups: [] },
})
const ev = (raw: Record<string, unknown>, s: number) => at(auditEvent(raw), s)

const CORR_1 = `title: Secret burst
id: corr-1
level: high
correlation:
  type: event_count
  rules: [secret_read]
  group-by: [user.username]
  timespan: 1m
  condition: {gte: 3}`

// Correlations are stateful: every scenario below loads a fresh instance.
describe('event_count', () => {
  const fresh = () => load(CORR_1)

  it('fires when the count is reached within the timespan, per group, and then resets', () => {
    const alice = (s: number) => ev(user('alice', secretGet()), s)
    const bob = (s: number) => ev(user('bob', secretGet()), s)
    expect(
      run(fresh(), [alice(0), bob(1), alice(10), bob(20), alice(30), alice(31), alice(40), alice(50)]),
    ).toEqual([30, 50])
  })

  it('events older than the timespan fall out of the window', () => {
    const alice = (s: number) => ev(user('alice', secretGet()), s)
    expect(run(fresh(), [alice(0), alice(30), alice(61), alice(62)])).toEqual([62]) // 30, 61, 62
    expect(run(fresh(), [alice(0), alice(59), alice(121)])).toEqual([])
  })

  it('exposes metadata and flattened base rule ids', () => {
    const c = fresh().correlations[0]!
    expect(c).toMatchObject({
      id: 'corr-1',
      title: 'Secret burst',
      level: 'high',
      language: 'sigma',
      file: 'rules/mr_test.yml',
    })
    expect(c.ruleRefs).toEqual(['11111111-0000-4000-8000-000000000001'])
    expect(c.onMatch('some-other-rule', ev(secretGet(), 0))).toBe(false)
  })

  it('range conditions', () => {
    const ranged = load(CORR_1.replace('{gte: 3}', '{gt: 1, lte: 2}'))
    const a = (s: number) => ev(secretGet(), s)
    expect(run(ranged, [a(0), a(1), a(2), a(3)])).toEqual([1, 3])
  })
})

describe('value_count', () => {
  it('counts distinct values of a field per group', () => {
    const set = load(`title: Many secrets by one user
correlation:
  type: value_count
  rules: [secret_read]
  group-by: [user.username]
  timespan: 5m
  condition: {field: objectRef.name, gte: 3}`)
    const read = (who: string, name: string, s: number) =>
      ev({ ...user(who, secretGet()), objectRef: { resource: 'secrets', name } }, s)
    expect(
      run(set, [
        read('a', 'one', 0),
        read('a', 'one', 1),
        read('a', 'two', 2),
        read('b', 'three', 3),
        read('a', 'three', 4),
      ]),
    ).toEqual([4])
  })
})

describe('temporal', () => {
  const fresh = () =>
    load(`title: Secret read and exec by the same user
id: corr-t
correlation:
  type: temporal
  rules: [secret_read, pod_exec]
  group-by: [user.username]
  timespan: 10m`)

  it('fires when all referenced rules matched within the timespan, in any order, for one group', () => {
    const s = (who: string, t: number) => ev(user(who, secretsList()), t)
    const x = (who: string, t: number) => ev(user(who, execImds()), t)
    expect(run(fresh(), [x('alice', 0), s('bob', 60), s('alice', 120)])).toEqual([120])
    expect(run(fresh(), [s('alice', 0), x('bob', 60)])).toEqual([])
    expect(run(fresh(), [s('alice', 0), x('alice', 601)])).toEqual([])
    expect(run(fresh(), [s('alice', 0), x('alice', 600), x('alice', 700), s('alice', 800)])).toEqual([
      600, 800,
    ])
  })

  it('references by id work too, and ruleRefs lists both', () => {
    const byId = load(`title: t
correlation:
  type: temporal
  rules: [11111111-0000-4000-8000-000000000001, pod_exec]
  timespan: 10m`)
    expect(byId.correlations[0]!.ruleRefs).toEqual([
      '11111111-0000-4000-8000-000000000001',
      '11111111-0000-4000-8000-000000000002',
    ])
    expect(run(byId, [ev(secretsList(), 0), ev(execImds(), 5)])).toEqual([5])
  })
})

describe('temporal_ordered', () => {
  const fresh = () =>
    load(`title: Secret enumeration followed by pod exec
correlation:
  type: temporal_ordered
  rules: [secret_read, pod_exec]
  group-by: [user.username]
  timespan: 10m`)

  it('requires the order given in rules', () => {
    expect(run(fresh(), [ev(execImds(), 0), ev(secretsList(), 10)])).toEqual([])
    expect(run(fresh(), [ev(secretsList(), 0), ev(execImds(), 10)])).toEqual([10])
    expect(run(fresh(), [ev(secretsList(), 0), ev(execImds(), 601)])).toEqual([])
    expect(run(fresh(), [ev(secretsList(), 0), ev(secretsList(), 500), ev(execImds(), 601)])).toEqual([601])
  })
})

describe('aliases, chaining and generate', () => {
  it('aliases map one group-by name to a different field per rule', () => {
    const fresh = () =>
      load(`title: Same namespace
correlation:
  type: temporal
  rules: [secret_read, pod_exec]
  group-by: [ns]
  timespan: 10m
  aliases:
    ns:
      secret_read: objectRef.namespace
      pod_exec: requestObject.ns`)
    const exec = (ns: string, s: number) => ev({ ...execImds(), requestObject: { ns } }, s)
    expect(run(fresh(), [ev(secretGet(), 0), exec('default', 1)])).toEqual([])
    expect(run(fresh(), [ev(secretGet(), 0), exec('t1552', 1)])).toEqual([1])
  })

  it('a correlation can consume another correlation; nested ones are not stand-alone', () => {
    const set = parseSigma(
      `title: Burst then exec
id: outer
correlation:
  type: temporal_ordered
  rules: [burst, pod_exec]
  timespan: 10m
---
title: Burst
id: burst-id
name: burst
correlation:
  type: event_count
  rules: [secret_read]
  timespan: 1m
  condition: {gte: 2}
---
${BASE}`,
      'rules/mr_chain.yml',
    )
    expect(set.correlations.map((c) => c.id)).toEqual(['outer'])
    expect(set.correlations[0]!.ruleRefs).toEqual([
      '11111111-0000-4000-8000-000000000001',
      '11111111-0000-4000-8000-000000000002',
    ])
    expect(
      run(set, [ev(secretGet(), 0), ev(execImds(), 5), ev(secretGet(), 10), ev(execImds(), 20)]),
    ).toEqual([20])
  })

  it('rules consumed by a correlation are correlationOnly unless it sets generate: true', () => {
    const corr = `title: c\ncorrelation:\n  type: event_count\n  rules: [secret_read]\n  timespan: 1m\n  condition: {gte: 2}`
    const only = load(corr)
    expect(only.rules.map((r) => [r.id.slice(-1), r.correlationOnly ?? false])).toEqual([
      ['1', true],
      ['2', false],
    ])
    const generated = load(`${corr}\n  generate: true`)
    expect(generated.rules.every((r) => !r.correlationOnly)).toBe(true)
    expect(generated.rules[0]!.match(auditEvent(secretGet()))).toBe(true)
  })

  it('references rules from other files through `known`', () => {
    const base = parseSigma(BASE, 'rules/base.yml').rules
    const known = new Map<string, CompiledRule>()
    for (const r of base) known.set(r.id, r)
    known.set('secret_read', base[0]!)
    const set = parseSigma(
      'title: c\ncorrelation:\n  type: event_count\n  rules: [secret_read]\n  timespan: 1m\n  condition: {gte: 2}\n',
      'rules/mr_other.yml',
      known,
    )
    expect(set.rules).toEqual([])
    const c = set.correlations[0]!
    expect(c.ruleRefs).toEqual([base[0]!.id])
    expect([c.onMatch(base[0]!.id, ev(secretGet(), 0)), c.onMatch(base[0]!.id, ev(secretGet(), 1))]).toEqual([
      false,
      true,
    ])
  })

  it('a correlation cycle is an error', () => {
    expect(() =>
      parseSigma(
        'title: a\nname: a\ncorrelation:\n  type: temporal\n  rules: [b]\n  timespan: 1m\n---\ntitle: b\nname: b\ncorrelation:\n  type: temporal\n  rules: [a]\n  timespan: 1m\n',
        'rules/mr_cycle.yml',
      ),
    ).toThrow(/cycle/)
  })
})

describe('rule ids', () => {
  const doc = (extra: string) => `title: t\n${extra}detection:\n  sel:\n    verb: get\n  condition: sel\n`
  it('id, else name, else the file name (with #n when several documents lack both)', () => {
    const ids = (text: string) => parseSigma(text, 'rules/k8s_secret_get.yml').rules.map((r) => r.id)
    expect(ids(doc('id: 5f0e-uuid\nname: n\n'))).toEqual(['5f0e-uuid'])
    expect(ids(doc('name: secret_get\n'))).toEqual(['secret_get'])
    expect(ids(doc(''))).toEqual(['k8s_secret_get'])
    expect(ids(`${doc('')}---\n${doc('id: x\n')}---\n${doc('')}`)).toEqual([
      'k8s_secret_get#1',
      'x',
      'k8s_secret_get#2',
    ])
  })
})
