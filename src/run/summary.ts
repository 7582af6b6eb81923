import type { Scenario } from '../scenario/load.js'
import type { RunResult, RunSummary, StepResult } from './result.js'

export function summarize(steps: readonly StepResult[]): RunSummary {
  const attack = steps.filter((s) => s.kind === 'attack')
  const benign = steps.filter((s) => s.kind === 'benign')
  return {
    attackSteps: attack.length,
    detected: attack.filter((s) => s.verdict === 'DETECTED' || s.verdict === 'DETECTED_LATE').length,
    missed: attack.filter((s) => !s.passed && s.verdict !== 'BLOCKED').length,
    blocked: attack.filter((s) => s.verdict === 'BLOCKED').length,
    falsePositives: benign.filter((s) => s.verdict === 'FALSE_POSITIVE').length,
    benignSteps: benign.length,
  }
}

/** 0 when every expectation held, 1 on any detection gap (a miss or a false positive). */
export function exitCodeFor(steps: readonly StepResult[]): 0 | 1 {
  return steps.every((s) => s.passed) ? 0 : 1
}

/**
 * Rules that fired on benign steps without being asserted silent there: not false positives by the
 * scenarios' terms, but noise a detection engineer should see.
 */
export function noisyRuleFindings(steps: readonly StepResult[]): string[] {
  const byRule = new Map<string, string[]>()
  for (const s of steps) {
    if (s.kind !== 'benign' || s.verdict !== 'PASSED_BENIGN') continue
    for (const r of s.rules) byRule.set(r, [...(byRule.get(r) ?? []), `${s.scenario}/${s.step}`])
  }
  return [...byRule].map(
    ([rule, where]) =>
      `rule ${rule} also fired on ${where.length} benign step(s), not asserted silent there: ${where.join(', ')}`,
  )
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
