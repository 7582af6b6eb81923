// The one place a RunResult is put together, for a live run (runner.ts) and a replay (replay.ts) alike:
// the summary, the findings every run reports and the per-source telemetry counts are derived here.
import type { RuleSet } from '../detection/types.js'
import type { Scenario } from '../scenario/load.js'
import type { Finding, RunOrigin, RunResult, StepResult } from './result.js'
import { noisyRuleFindings, scenarioSummary, summarize } from './summary.js'
import { lossFindings, problemFindings, type TelemetryBus } from './telemetry-bus.js'

export interface RunFacts {
  runId: string
  startedAt: string
  finishedAt: string
  lab: string
  provider: RunOrigin
  manifest: Record<string, string>
  scenarios: readonly Scenario[]
  steps: StepResult[]
  /** Findings the run itself made (skips, known gaps, stale recording steps…). */
  findings: readonly Finding[]
  /** The bus the run's telemetry went through: its events, pipeline problems and losses. */
  bus: TelemetryBus
  ruleSet: RuleSet
}

export function assembleResult(f: RunFacts): RunResult {
  const telemetry: Record<string, number> = {}
  for (const e of f.bus.events) telemetry[e.source] = (telemetry[e.source] ?? 0) + 1
  return {
    runId: f.runId,
    startedAt: f.startedAt,
    finishedAt: f.finishedAt,
    lab: f.lab,
    provider: f.provider,
    scenarios: f.scenarios.map(scenarioSummary),
    steps: f.steps,
    summary: summarize(f.steps),
    manifest: f.manifest,
    findings: [
      ...noisyRuleFindings(f.steps),
      ...f.findings,
      ...problemFindings(f.bus.problems),
      ...lossFindings(f.bus.losses.values()),
    ],
    telemetry,
    rules: f.ruleSet.rules.map((r) => ({ id: r.id, title: r.title, file: r.file, language: r.language })),
  }
}
