import type { Alert, CompiledRule, NearMiss } from '../detection/types.js'
import type { Step } from '../scenario/schema.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import { getField } from '../telemetry/event.js'
import type { Finding, Verdict } from './result.js'

export interface VerdictInput {
  step: Step
  exitCode: number
  stderr: string
  sentAt: number
  events: readonly TelemetryEvent[]
  /** Alerts raised on `events` (any pipeline). */
  alerts: readonly Alert[]
  /** Every loaded rule, for `silent: all` and near-miss explanations. */
  rules: ReadonlyMap<string, CompiledRule>
  /** NetworkPolicies the scenario set up (names), for a step expected to be blocked by the network. */
  networkPolicies?: readonly string[]
}

export interface VerdictOutput {
  verdict: Verdict
  passed: boolean
  rules: string[]
  latencyMs?: number
  telemetryLatencyMs?: number
  explanation?: string
  nearMiss?: NearMiss
  /** About this step; `step` is left for the caller, who knows the scenario. */
  findings: Omit<Finding, 'step'>[]
}

// Authorization denials (a mitigation at work). 401s are not here: bad credentials are a failed action.
const DENIED = /forbidden|\(403\)|HTTP 403|AccessDenied|AuthorizationFailed/i
// The network refused or dropped the connection (curl's "couldn't connect" and timeout, in a pod).
const NETWORK_DENIED =
  /curl: \((7|28)\)|Couldn't connect to server|Connection refused|No route to host|Connection timed out|timed out after/i

export function parseDuration(d: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d)
  if (!m) return 10_000
  const n = Number(m[1])
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000
}

/** First alert time per rule, relative to the action. */
function firstAlertMs(alerts: readonly Alert[], sentAt: number): Map<string, number> {
  const first = new Map<string, number>()
  for (const a of alerts) {
    const ms = Date.parse(a.alertTime) - sentAt
    const prev = first.get(a.rule)
    if (prev === undefined || ms < prev) first.set(a.rule, ms)
  }
  return first
}

// Decides one step's verdict from what the action returned, its telemetry and the alerts on it.
export function decideVerdict(input: VerdictInput): VerdictOutput {
  const { step, events, alerts, sentAt } = input
  const first = firstAlertMs(alerts, sentAt)
  const fired = [...first.keys()].sort()
  const telemetryLatencyMs = events.length
    ? Math.max(0, Math.min(...events.map((e) => e.timeMs)) - sentAt)
    : undefined
  const denied =
    events.some((e) => getField(e, 'responseStatus.code') === 403) ||
    (input.exitCode !== 0 && DENIED.test(input.stderr))
  const findings: Omit<Finding, 'step'>[] = []
  for (const gap of step.expect.knownGaps) {
    findings.push(
      first.has(gap.rule)
        ? {
            kind: 'known-gap-fired',
            rule: gap.rule,
            message: `rule ${gap.rule} was expected not to fire (${gap.reason}) but fired — re-check the analysis`,
          }
        : {
            kind: 'known-gap',
            rule: gap.rule,
            message: `rule ${gap.rule} cannot fire on this telemetry: ${gap.reason}`,
          },
    )
  }
  const base = { rules: fired, telemetryLatencyMs, findings }

  if (input.exitCode !== 0 || denied) {
    if (denied) {
      const expected = step.expect.outcome === 'blocked'
      return {
        ...base,
        verdict: 'BLOCKED',
        // Prevented is a pass for an attack; a denied benign action breaks the test's premise.
        passed: step.kind === 'attack',
        explanation: expected
          ? `prevented as intended${step.mitigations?.length ? ` by ${step.mitigations.join(', ')}` : ''}: the request was denied (HTTP 403)`
          : `the action was denied (HTTP 403); the attack was prevented rather than detected${step.kind === 'benign' ? ' — a benign action should be allowed: check the RBAC in setup' : ''}`,
      }
    }
    // A network denial counts as prevention only where the step expects a network mitigation to block
    // it (NetworkPolicy in its setup): elsewhere an unreachable service is a failed action.
    if (
      step.expect.outcome === 'blocked' &&
      input.networkPolicies?.length &&
      NETWORK_DENIED.test(input.stderr)
    ) {
      return {
        ...base,
        verdict: 'BLOCKED',
        passed: step.kind === 'attack',
        explanation: `prevented as intended${step.mitigations?.length ? ` by ${step.mitigations.join(', ')}` : ''}: the network refused the connection (NetworkPolicy ${input.networkPolicies.join(', ')} enforced): ${firstLine(input.stderr.split('\n').find((l) => NETWORK_DENIED.test(l)) ?? input.stderr)}`,
      }
    }
    return {
      ...base,
      verdict: 'ACTION_FAILED',
      passed: false,
      explanation: `the action failed (exit ${input.exitCode}): ${firstLine(input.stderr)}`,
    }
  }

  if (step.kind === 'benign') {
    const silent = step.expect.silent ?? 'all'
    const noisy = fired.filter((r) => silent === 'all' || silent.includes(r))
    if (noisy.length)
      return {
        ...base,
        verdict: 'FALSE_POSITIVE',
        passed: false,
        explanation: `benign action raised ${noisy.join(', ')}`,
      }
    // Rules the step does not assert silent still fired: noise a detection engineer should see, counted.
    if (fired.length)
      return {
        ...base,
        verdict: 'NOISY',
        passed: true,
        explanation: `no asserted rule fired, but ${fired.join(', ')} fired (not asserted silent here)`,
      }
    return { ...base, verdict: 'PASSED_BENIGN', passed: true }
  }

  const blockedNote =
    step.expect.outcome === 'blocked' ? ' — but the mitigation was expected to block it' : ''
  if (!events.length) {
    return {
      ...base,
      verdict: 'NOT_LOGGED',
      passed: false,
      explanation: `the action succeeded but left no telemetry the harness could tie to it (audit policy or collection gap)${blockedNote}`,
    }
  }
  const missingSources = (step.expect.telemetry ?? []).filter((s) => !events.some((e) => e.source === s))
  const expected = step.expect.alerts
  const missing = expected.filter((r) => !first.has(r))
  const detected = isDetected(expected, first)
  if (detected) {
    const latencyMs = Math.max(...(expected.length ? expected : fired).map((r) => first.get(r) ?? 0))
    const budget = parseDuration(step.expect.within)
    const late = latencyMs > budget
    const notes = [
      ...(late ? [`detected in ${latencyMs} ms, over the ${step.expect.within} budget`] : []),
      ...(missingSources.length ? [`no ${missingSources.join(', ')} telemetry`] : []),
    ].join('; ')
    const explanation = `${notes}${blockedNote}`
    return {
      ...base,
      verdict: late ? 'DETECTED_LATE' : 'DETECTED',
      passed: !late && step.expect.outcome !== 'blocked' && !missingSources.length,
      latencyMs,
      ...(explanation ? { explanation } : {}),
    }
  }
  const nearMiss = nearestMiss(missing.length ? missing : [...input.rules.keys()], events, input.rules)
  const why = missing.length ? `expected ${missing.join(', ')} to fire` : 'no rule fired'
  return {
    ...base,
    verdict: 'LOGGED_NOT_ALERTED',
    passed: false,
    ...(nearMiss ? { nearMiss } : {}),
    explanation: `${events.length} telemetry event(s) recorded but ${why}${
      nearMiss
        ? `; nearest miss: ${nearMiss.rule} (field ${nearMiss.field}: expected ${nearMiss.expected}, got ${JSON.stringify(nearMiss.actual)})`
        : ''
    }${fired.length ? `; other rules fired: ${fired.join(', ')}` : ''}${blockedNote}`,
  }
}

function nearestMiss(
  ruleIds: readonly string[],
  events: readonly TelemetryEvent[],
  rules: ReadonlyMap<string, CompiledRule>,
): NearMiss | undefined {
  let best: NearMiss | undefined
  for (const id of ruleIds) {
    const rule = rules.get(id)
    if (!rule?.nearMiss) continue
    for (const e of events) {
      const nm = rule.nearMiss(e)
      if (nm && (!best || nm.score > best.score)) best = nm
    }
  }
  return best
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? '').slice(0, 300)
}

/** The one "detected" rule: every rule the step names fired, or, naming none, any rule fired. */
export function isDetected(
  expected: readonly string[],
  fired: { has(rule: string): boolean; size: number },
): boolean {
  return expected.length ? expected.every((r) => fired.has(r)) : fired.size > 0
}
