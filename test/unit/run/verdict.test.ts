import { describe, expect, it } from 'vitest'
import type { Alert, CompiledRule } from '../../../src/detection/types.js'
import { decideVerdict, parseDuration } from '../../../src/run/verdict.js'
import { auditEvent, step } from './helpers.js'

const sentAt = Date.parse('2026-11-27T10:00:00.500Z')
const alert = (rule: string, afterMs: number): Alert => ({
  rule,
  title: rule,
  tags: [],
  time: '2026-11-27T10:00:01.000Z',
  alertTime: new Date(sentAt + afterMs).toISOString(),
  pipeline: 'builtin',
})
const rules = new Map<string, CompiledRule>()
const base = { exitCode: 0, stderr: '', sentAt, rules }

describe('decideVerdict', () => {
  const attack = step({ expect: { alerts: ['r1', 'r2'], within: '2s' } })

  it('DETECTED when every expected rule fires within budget; latency is the slowest expected rule', () => {
    const v = decideVerdict({
      ...base,
      step: attack,
      events: [auditEvent()],
      alerts: [alert('r1', 300), alert('r2', 700)],
    })
    expect(v).toMatchObject({
      verdict: 'DETECTED',
      passed: true,
      latencyMs: 700,
      rules: ['r1', 'r2'],
      telemetryLatencyMs: 500,
    })
  })

  it('DETECTED_LATE (a gap) when over the budget', () => {
    const v = decideVerdict({
      ...base,
      step: attack,
      events: [auditEvent()],
      alerts: [alert('r1', 300), alert('r2', 2500)],
    })
    expect(v).toMatchObject({ verdict: 'DETECTED_LATE', passed: false, latencyMs: 2500 })
  })

  it('LOGGED_NOT_ALERTED with the nearest miss when telemetry exists but an expected rule is silent', () => {
    const near: CompiledRule = {
      id: 'r2',
      title: 'r2',
      file: 'r2.yml',
      language: 'sigma',
      tags: [],
      match: () => false,
      nearMiss: () => ({ rule: 'r2', score: 0.5, field: 'verb', expected: 'create', actual: 'get' }),
    }
    const v = decideVerdict({
      ...base,
      rules: new Map([['r2', near]]),
      step: attack,
      events: [auditEvent()],
      alerts: [alert('r1', 100)],
    })
    expect(v.verdict).toBe('LOGGED_NOT_ALERTED')
    expect(v.passed).toBe(false)
    expect(v.nearMiss?.field).toBe('verb')
    expect(v.explanation).toMatch(
      /expected r2 to fire; nearest miss: r2 \(field verb: expected create, got "get"\)/,
    )
  })

  it('NOT_LOGGED when the action succeeded without telemetry', () => {
    const v = decideVerdict({ ...base, step: attack, events: [], alerts: [] })
    expect(v).toMatchObject({ verdict: 'NOT_LOGGED', passed: false })
  })

  it('BLOCKED counts as prevented for attacks, from a 403 audit event or a Forbidden error', () => {
    const denied = auditEvent({ responseStatus: { code: 403 } })
    const expected = step({ expect: { outcome: 'blocked' }, mitigations: ['M1026'] })
    expect(
      decideVerdict({ ...base, exitCode: 1, step: expected, events: [denied], alerts: [] }),
    ).toMatchObject({
      verdict: 'BLOCKED',
      passed: true,
      explanation: expect.stringMatching(/as intended by M1026/),
    })
    expect(
      decideVerdict({
        ...base,
        exitCode: 1,
        stderr: 'Error from server (Forbidden)',
        step: attack,
        events: [],
        alerts: [],
      }).verdict,
    ).toBe('BLOCKED')
  })

  it('BLOCKED from a network denial only where a NetworkPolicy was expected to block the step', () => {
    const refused =
      "curl: (7) Failed to connect to 169.254.169.254 port 80 after 2 ms: Couldn't connect to server\ncommand terminated with exit code 7"
    const expected = step({ expect: { outcome: 'blocked' }, mitigations: ['M1035', 'M1030'] })
    const v = decideVerdict({
      ...base,
      exitCode: 7,
      stderr: refused,
      step: expected,
      events: [auditEvent()],
      alerts: [],
      networkPolicies: ['purple-locked/deny-metadata'],
    })
    expect(v).toMatchObject({ verdict: 'BLOCKED', passed: true })
    expect(v.explanation).toMatch(/by M1035, M1030: the network refused the connection/)
    expect(v.explanation).toContain('purple-locked/deny-metadata')
    // The same failure without a policy in setup, or on a step not expected to be blocked, is a failure.
    for (const input of [
      { step: expected, networkPolicies: [] },
      { step: attack, networkPolicies: ['purple-locked/deny-metadata'] },
    ]) {
      const other = decideVerdict({ ...base, ...input, exitCode: 7, stderr: refused, events: [], alerts: [] })
      expect(other.verdict).toBe('ACTION_FAILED')
    }
  })

  it('ACTION_FAILED when the action failed for another reason', () => {
    const v = decideVerdict({
      ...base,
      exitCode: 127,
      stderr: 'curl: not found\n',
      step: attack,
      events: [],
      alerts: [],
    })
    expect(v).toMatchObject({
      verdict: 'ACTION_FAILED',
      passed: false,
      explanation: 'the action failed (exit 127): curl: not found',
    })
  })

  it('benign steps: PASSED_BENIGN when quiet, NOISY when an unasserted rule fires, FALSE_POSITIVE when an asserted one does', () => {
    const benign = step({ kind: 'benign', expect: { silent: ['r1'] } })
    expect(decideVerdict({ ...base, step: benign, events: [auditEvent()], alerts: [] })).toMatchObject({
      verdict: 'PASSED_BENIGN',
      passed: true,
    })
    expect(
      decideVerdict({ ...base, step: benign, events: [auditEvent()], alerts: [alert('r2', 10)] }),
    ).toMatchObject({
      verdict: 'NOISY',
      passed: true,
      rules: ['r2'],
      explanation: expect.stringMatching(/r2 fired \(not asserted silent here\)/),
    })
    expect(
      decideVerdict({ ...base, step: benign, events: [auditEvent()], alerts: [alert('r1', 10)] }),
    ).toMatchObject({ verdict: 'FALSE_POSITIVE', passed: false })
    const all = step({ kind: 'benign' })
    expect(
      decideVerdict({ ...base, step: all, events: [auditEvent()], alerts: [alert('anything', 10)] }).verdict,
    ).toBe('FALSE_POSITIVE')
  })

  it('reports known gaps as findings, and flags one that fires after all', () => {
    const s = step({ expect: { alerts: ['r1'], knownGaps: [{ rule: 'seed', reason: 'no user field' }] } })
    expect(
      decideVerdict({ ...base, step: s, events: [auditEvent()], alerts: [alert('r1', 1)] }).findings,
    ).toEqual([
      { kind: 'known-gap', rule: 'seed', message: 'rule seed cannot fire on this telemetry: no user field' },
    ])
    expect(
      decideVerdict({ ...base, step: s, events: [auditEvent()], alerts: [alert('r1', 1), alert('seed', 1)] })
        .findings[0],
    ).toMatchObject({
      kind: 'known-gap-fired',
      rule: 'seed',
      message: expect.stringMatching(/fired — re-check/),
    })
  })

  it('parses durations', () => {
    expect([parseDuration('250ms'), parseDuration('5s'), parseDuration('2m')]).toEqual([250, 5000, 120000])
  })
})

describe('decideVerdict on authentication failures', () => {
  it('a rejected credential (401) is a failed action, not a prevented one', () => {
    const v = decideVerdict({
      ...base,
      exitCode: 1,
      stderr: 'HTTP 401: Unauthorized',
      step: step(),
      events: [],
      alerts: [],
    })
    expect(v.verdict).toBe('ACTION_FAILED')
  })
})

describe('decideVerdict explanations', () => {
  it('keeps every reason a detection is a gap (late and a missing telemetry source)', () => {
    const s = step({ expect: { alerts: ['r1'], within: '1s', telemetry: ['docker-api'] } })
    const v = decideVerdict({ ...base, step: s, events: [auditEvent()], alerts: [alert('r1', 1500)] })
    expect(v.verdict).toBe('DETECTED_LATE')
    expect(v.explanation).toBe('detected in 1500 ms, over the 1s budget; no docker-api telemetry')
  })
})
