// The detection-pipeline seam: anything that watches normalized telemetry and raises alerts — the
// built-in engines, an HTTP intake for alerts pushed by Falco or a SIEM, or the user's own program.
import type { Alert } from '../../detection/types.js'
import type { TelemetryEvent } from '../../telemetry/event.js'

/** What a pipeline sees of the telemetry bus. */
export interface PipelineHost {
  /** Every event seen so far, in arrival order. */
  readonly events: readonly TelemetryEvent[]
  /** Calls `listener` with every event pushed from now on, in arrival order. */
  onEvent(listener: (event: TelemetryEvent) => void): void
  /** Adds an alert; its `evidence` (the event it was raised on) ties it to a step. */
  addAlert(alert: Alert): void
  /** The `alertTime` for an alert raised now on `event` (wall clock live, event time offline). */
  alertTime(event: TelemetryEvent | undefined): string
  /** A problem worth a finding in the report (malformed output, a crash): never thrown. */
  problem(message: string): void
}

export interface DetectionPipeline {
  readonly name: string
  attach(host: PipelineHost): void | Promise<void>
  /** Resolves once every event given so far has been processed (offline, before verdicts). */
  settle?(): Promise<void>
  stop(): Promise<void>
}
