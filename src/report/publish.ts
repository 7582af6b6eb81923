// After a run: applies the judging options, writes every report, compares with a baseline and decides the
// exit code — 0 all expectations met; 1 a gap or a regression; 2 lost telemetry under --strict, a lab
// fault or a reporter that failed. Printing is the CLI's.
import type { Redactor } from '../redact/redactor.js'
import type { Finding, RunResult } from '../run/result.js'
import type { ReportSpec } from '../run/spec.js'
import { applyStrictBenign, exitCodeFor, summarize } from '../run/summary.js'
import { isTelemetryLoss } from '../run/telemetry-bus.js'
import { diffReports, type RunDiff, readReport } from './diff.js'
import { type WriteReportsResult, writeReports } from './write-reports.js'

export interface Published {
  written: WriteReportsResult
  diff?: RunDiff
  /** Telemetry losses and pipeline failures that fail the run (`strict`). */
  lost: Finding[]
  /** The run's own verdict: expectations, regressions, losses (what `--json` reports as exitCode). */
  code: number
  /** What the process exits with: `code`, or 2 when a reporter failed. */
  exitCode: number
}

export async function publishRun(
  result: RunResult,
  spec: ReportSpec,
  redactor: Redactor,
): Promise<Published> {
  if (spec.strictBenign) {
    applyStrictBenign(result.steps)
    result.summary = summarize(result.steps)
  }
  const written = await writeReports(result, { dir: spec.dir, redactor })
  const diff = spec.baseline
    ? diffReports(await readReport(spec.baseline), await readReport(written.dir))
    : undefined
  const lost = spec.strict ? result.findings.filter(isTelemetryLoss) : []
  const code = Math.max(exitCodeFor(result.steps), diff?.regressions.length ? 1 : 0, lost.length ? 2 : 0)
  return {
    written,
    ...(diff ? { diff } : {}),
    lost,
    code,
    exitCode: written.errors.length ? 2 : code,
  }
}
