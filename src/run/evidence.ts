import type { TelemetryEvent } from '../telemetry/event.js'
import { sourceDescriptor } from '../telemetry/registry.js'
import type { StepEvidence } from './result.js'

// A one-line, human-readable summary of an event, as its source describes it.
export function excerpt(e: TelemetryEvent): string {
  return sourceDescriptor(e.source).excerpt(e)
}

export function toEvidence(events: readonly TelemetryEvent[], max = 6): StepEvidence[] {
  return events.slice(0, max).map((e) => ({
    source: e.source,
    time: e.time,
    excerpt: excerpt(e),
    ...(e.auditID ? { auditID: e.auditID } : {}),
  }))
}
