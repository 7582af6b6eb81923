// report.json: the machine-readable result. The full StepResult, except the raw events kept on alerts
// for correlation: those are never serialized (excerpts in `evidence` stand in for them).
import type { Alert } from '../detection/types.js'
import type { RunResult, StepResult } from '../run/result.js'
import { gaps, runDurationMs } from './common.js'

/** Bumped when a field is renamed or removed, so consumers can tell formats apart. */
export const REPORT_JSON_VERSION = 2

function withoutEvidence(alert: Alert): Omit<Alert, 'evidence'> {
  const { evidence: _dropped, ...rest } = alert
  return rest
}

function serializableStep(
  step: StepResult,
): Omit<StepResult, 'alerts'> & { alerts: Omit<Alert, 'evidence'>[] } {
  return { ...step, alerts: step.alerts.map(withoutEvidence) }
}

export function renderJson(result: RunResult): string {
  const report = {
    reportVersion: REPORT_JSON_VERSION,
    runId: result.runId,
    lab: result.lab,
    provider: result.provider,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    durationMs: runDurationMs(result),
    summary: { ...result.summary, gaps: gaps(result).length },
    scenarios: result.scenarios,
    steps: result.steps.map(serializableStep),
    findings: result.findings,
    telemetry: result.telemetry,
    rules: result.rules,
    manifest: result.manifest,
    ...(result.selection ? { selection: result.selection } : {}),
    ...(result.repeat ? { repeat: result.repeat } : {}),
  }
  return `${JSON.stringify(report, null, 2)}\n`
}
