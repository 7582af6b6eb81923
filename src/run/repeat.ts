import { PurpleError } from '../errors.js'
import type { Finding, RunResult, StepResult, TelemetryCounts } from './result.js'
import { summarize } from './summary.js'

/** `--repeat N`: 1 to 100 (a flaky rule needs a few runs to show; a hundred is already a soak test). */
export function parseRepeat(text: string): number {
  const n = Number(text)
  if (!/^\d{1,3}$/.test(text) || n < 1 || n > 100)
    throw new PurpleError('PURPLE_USAGE', `--repeat must be a whole number from 1 to 100, got "${text}"`)
  return n
}

const isDetected = (s: StepResult) => s.verdict === 'DETECTED' || s.verdict === 'DETECTED_LATE'

/** `2/3 detected` (attack) or `2/3 passed` (benign), the rate every output shows for a repeated step. */
export function attemptsText(step: StepResult): string | undefined {
  const a = step.attempts
  if (!a) return undefined
  return step.kind === 'attack' ? `${a.detected}/${a.runs} detected` : `${a.passed}/${a.runs} passed`
}

/**
 * Folds N runs of the same selection into one result. A step passes only if every attempt passed; it
 * shows the first failing attempt (else the first), with every attempt's verdict in `attempts`, so a
 * flaky detection reads as 2/3 instead of a red night that the next run contradicts.
 */
export function mergeAttempts(runs: readonly RunResult[]): RunResult {
  const first = runs[0]
  if (!first) throw new PurpleError('PURPLE_INTERNAL', 'mergeAttempts needs at least one run')
  if (runs.length === 1) return first
  const key = (s: StepResult) => `${s.scenario}/${s.step}`
  const byKey = new Map<string, StepResult[]>()
  for (const r of runs) for (const s of r.steps) byKey.set(key(s), [...(byKey.get(key(s)) ?? []), s])
  const steps: StepResult[] = []
  const flaky: Finding[] = []
  for (const [id, tries] of byKey) {
    const shown = tries.find((s) => !s.passed) ?? (tries[0] as StepResult)
    const attempts = {
      runs: tries.length,
      passed: tries.filter((s) => s.passed).length,
      detected: tries.filter(isDetected).length,
      verdicts: tries.map((s) => s.verdict),
    }
    const step: StepResult = { ...shown, passed: attempts.passed === tries.length, attempts }
    steps.push(step)
    if (new Set(attempts.verdicts).size > 1)
      flaky.push({
        kind: 'flaky-detection',
        step: id,
        message: `${id} is flaky: ${attemptsText(step)} over ${tries.length} attempts (${attempts.verdicts.join(', ')})`,
      })
  }
  const seen = new Set<string>()
  const findings = [...flaky, ...runs.flatMap((r) => r.findings)].filter((f) => {
    const k = `${f.kind}\0${f.step ?? ''}\0${f.rule ?? ''}\0${f.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
  const telemetry: TelemetryCounts = {}
  for (const r of runs)
    for (const [source, n] of Object.entries(r.telemetry) as [keyof TelemetryCounts, number][])
      telemetry[source] = (telemetry[source] ?? 0) + n
  return {
    ...first,
    finishedAt: (runs[runs.length - 1] as RunResult).finishedAt,
    steps,
    summary: summarize(steps),
    findings,
    telemetry,
    repeat: runs.length,
  }
}
