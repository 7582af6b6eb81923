import type { Scenario } from '../scenario/load.js'
import type { Finding, RunResult, RunSummary, StepResult } from './result.js'

export function summarize(steps: readonly StepResult[]): RunSummary {
  const attack = steps.filter((s) => s.kind === 'attack')
  const benign = steps.filter((s) => s.kind === 'benign')
  const ran = (s: StepResult) => s.verdict !== 'SKIPPED' && s.verdict !== 'NOT_RECORDED'
  return {
    steps: steps.length,
    attackSteps: attack.length,
    detected: attack.filter((s) => s.verdict === 'DETECTED' || s.verdict === 'DETECTED_LATE').length,
    missed: attack.filter((s) => ran(s) && !s.passed && s.verdict !== 'BLOCKED').length,
    blocked: attack.filter((s) => s.verdict === 'BLOCKED').length,
    falsePositives: benign.filter((s) => s.verdict === 'FALSE_POSITIVE').length,
    noisy: benign.filter((s) => s.verdict === 'NOISY').length,
    benignSteps: benign.length,
    skipped: steps.filter((s) => s.verdict === 'SKIPPED').length,
    notRecorded: steps.filter((s) => s.verdict === 'NOT_RECORDED').length,
  }
}

/** The one-line headline every output shares; counts every selected step, run or not. */
export function headline(s: RunSummary): string {
  const parts = [
    `${s.detected}/${s.attackSteps} attack steps detected`,
    `${s.blocked} blocked`,
    `${s.missed} missed`,
    `${s.falsePositives} false positive(s) and ${s.noisy} noisy over ${s.benignSteps} benign step(s)`,
  ]
  if (s.skipped) parts.push(`${s.skipped} skipped`)
  if (s.notRecorded) parts.push(`${s.notRecorded} not recorded`)
  return `${s.steps} steps: ${parts.join(', ')}`
}

/** 0 when every expectation held, 1 on any detection gap (a miss, a false positive, a step not recorded). */
export function exitCodeFor(steps: readonly StepResult[]): 0 | 1 {
  return steps.every((s) => s.passed) ? 0 : 1
}

/**
 * Rules that fired on NOISY benign steps, one finding per rule: not false positives by the scenarios'
 * terms, but noise a detection engineer should see first.
 */
export function noisyRuleFindings(steps: readonly StepResult[]): Finding[] {
  const byRule = new Map<string, string[]>()
  for (const s of steps) {
    if (s.verdict !== 'NOISY') continue
    for (const r of s.rules) byRule.set(r, [...(byRule.get(r) ?? []), `${s.scenario}/${s.step}`])
  }
  return [...byRule].flatMap(([rule, where]) =>
    where.map((step) => ({
      kind: 'noisy-rule' as const,
      step,
      rule,
      message: `rule ${rule} fired on benign step ${step}, which does not assert it silent (NOISY; ${where.length} such step(s))`,
    })),
  )
}

/** `--strict-benign`: noise on a benign step fails it like a false positive. */
export function applyStrictBenign(steps: StepResult[]): void {
  for (const s of steps) if (s.verdict === 'NOISY') s.passed = false
}

/** How a scenario is listed in a run's results. */
export function scenarioSummary(s: Scenario): RunResult['scenarios'][number] {
  return {
    id: s.metadata.id,
    title: s.metadata.title,
    techniques: s.metadata.techniques,
    tactic: s.metadata.tactic,
    file: s.file,
  }
}
