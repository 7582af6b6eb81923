// Facts every reporter derives from a RunResult the same way: verdict order and wording, latency text,
// steps grouped by scenario and technique, and which data sources saw a step.

import { attemptsText } from '../run/repeat.js'
import type { RunResult, StepResult, Verdict } from '../run/result.js'
import { VERDICTS } from '../run/result.js'
import { describeSelection } from '../run/select.js'
import type { SourceName } from '../telemetry/event.js'

export const VERDICT_EMOJI: Record<Verdict, string> = {
  DETECTED: '✅',
  DETECTED_LATE: '🕒',
  BLOCKED: '🛡️',
  LOGGED_NOT_ALERTED: '🟠',
  NOT_LOGGED: '❌',
  ACTION_FAILED: '⚠️',
  NOT_RECORDED: '❔',
  NOT_RUN: '⛔',
  SKIPPED: '⏭️',
  PASSED_BENIGN: '✅',
  NOISY: '📢',
  FALSE_POSITIVE: '🔔',
}

/** What each verdict means for the detection engineer reading the report. */
export const VERDICT_MEANING: Record<Verdict, string> = {
  DETECTED: 'the expected rule fired within the latency budget',
  DETECTED_LATE: 'a rule fired, but after the latency budget',
  BLOCKED: 'the action was denied (RBAC or admission): prevented rather than detected',
  LOGGED_NOT_ALERTED: 'telemetry recorded the action but no rule fired (a rule gap)',
  NOT_LOGGED: 'no telemetry recorded the action (a telemetry or audit-policy gap)',
  ACTION_FAILED: 'the action itself failed, so detection could not be judged',
  NOT_RECORDED: 'the replayed recording has no trace of this step, so nothing was judged (a gap)',
  NOT_RUN: 'the lab failed mid-run before this step could run, so nothing was judged (a gap)',
  SKIPPED: 'the lab cannot run this step (reported, not a gap)',
  PASSED_BENIGN: 'the benign look-alike raised no alert',
  NOISY: 'a rule not asserted silent fired on a benign look-alike (noise, not a gap unless --strict-benign)',
  FALSE_POSITIVE: 'a rule asserted silent fired on a benign look-alike',
}

/** Verdicts that need no explanation in a report. */
export function isClean(verdict: Verdict): boolean {
  return verdict === 'DETECTED' || verdict === 'PASSED_BENIGN'
}

/** Lower is better (VERDICTS is ordered best to worst). */
export function verdictRank(verdict: Verdict): number {
  return VERDICTS.indexOf(verdict)
}

export function bestVerdict(verdicts: Iterable<Verdict>): Verdict | undefined {
  let best: Verdict | undefined
  for (const v of verdicts) if (best === undefined || verdictRank(v) < verdictRank(best)) best = v
  return best
}

/** `850 ms`, `1.2 s`, `2 min 5 s`; an em dash when nothing was measured. */
export function formatLatency(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const totalSeconds = Math.round(ms / 1000)
  return `${Math.floor(totalSeconds / 60)} min ${totalSeconds % 60} s`
}

export function stepId(step: StepResult): string {
  return `${step.scenario}/${step.step}`
}

/** Scenario ids in declared order, then any that only appear on steps. */
export function scenarioIds(result: RunResult): string[] {
  const ids = result.scenarios.map((s) => s.id)
  for (const step of result.steps) if (!ids.includes(step.scenario)) ids.push(step.scenario)
  return ids
}

export function stepsByScenario(result: RunResult): Map<string, StepResult[]> {
  const groups = new Map<string, StepResult[]>(scenarioIds(result).map((id) => [id, []]))
  for (const step of result.steps) groups.get(step.scenario)?.push(step)
  return groups
}

/** Technique ids seen on scenarios or steps, sorted. */
export function techniqueIds(result: RunResult): string[] {
  const ids = new Set<string>()
  for (const s of result.scenarios) for (const t of s.techniques) ids.add(t)
  for (const s of result.steps) for (const t of s.techniques) ids.add(t)
  return [...ids].sort()
}

/** Data sources that recorded the step: its evidence, and the events its alerts fired on. */
export function stepSources(step: StepResult): Set<SourceName> {
  const sources = new Set<SourceName>(step.evidence.map((e) => e.source))
  for (const a of step.alerts) if (a.evidence) sources.add(a.evidence.source)
  return sources
}

/** Steps that failed their expectation: each is a gap (the run exits 1 when any exist). */
export function gaps(result: RunResult): StepResult[] {
  return result.steps.filter((s) => !s.passed)
}

export function countBy<T extends string>(items: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>()
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1)
  return counts
}

/** `DETECTED×2, BLOCKED×1` in verdict order. */
export function verdictCounts(steps: readonly StepResult[]): string {
  const counts = countBy(steps.map((s) => s.verdict))
  return VERDICTS.filter((v) => counts.has(v))
    .map((v) => `${v}×${counts.get(v)}`)
    .join(', ')
}

/**
 * What part of the suite ran and how often, for every header: `--only x (3 of 24 steps)`, `each step
 * ran 3 times`; empty for a full single run. A partial run must never read as the whole suite.
 */
export function scopeFacts(result: RunResult): string[] {
  const out: string[] = []
  if (result.selection) out.push(`selection: ${describeSelection(result.selection)}`)
  if (result.repeat && result.repeat > 1) out.push(`each step ran ${result.repeat} times`)
  return out
}

/** ` — 2/3 detected` for a repeated step, else empty. */
export function rateSuffix(step: StepResult): string {
  const rate = attemptsText(step)
  return rate ? ` — ${rate}` : ''
}

/** Run duration in ms, or undefined when a timestamp does not parse. */
export function runDurationMs(result: RunResult): number | undefined {
  const ms = Date.parse(result.finishedAt) - Date.parse(result.startedAt)
  return Number.isFinite(ms) ? ms : undefined
}
