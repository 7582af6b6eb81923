import type { TelemetryEvent } from '../telemetry/event.js'
import { getField } from '../telemetry/event.js'
import type { StepEvidence } from './result.js'

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v))

// A one-line, human-readable summary of an event (the report redacts it again on the way out).
export function excerpt(e: TelemetryEvent): string {
  switch (e.source) {
    case 'k8s-audit': {
      const user = str(getField(e, 'user.username'))
      const imp = str(getField(e, 'impersonatedUser.username'))
      const who = imp ? `${user} as ${imp}` : user
      return `${str(getField(e, 'verb'))} ${str(getField(e, 'requestURI'))} by ${who} → ${str(getField(e, 'responseStatus.code'))} [${str(getField(e, 'stage'))}] ua=${str(getField(e, 'userAgent')).slice(0, 60)}`
    }
    case 'docker-api':
      return `${str(getField(e, 'method'))} ${str(getField(e, 'path'))}${getField(e, 'status') ? ` → ${str(getField(e, 'status'))}` : ''}`
    case 'docker-events':
      return `${str(getField(e, 'Type'))} ${str(getField(e, 'Action'))} ${str(getField(e, 'Actor.Attributes.name'))}`
    case 'container-logs':
      return `${str(getField(e, 'container'))}: ${str(getField(e, 'log')).slice(0, 160)}`
  }
}

export function toEvidence(events: readonly TelemetryEvent[], max = 6): StepEvidence[] {
  return events.slice(0, max).map((e) => ({
    source: e.source,
    time: e.time,
    excerpt: excerpt(e),
    ...(e.auditID ? { auditID: e.auditID } : {}),
  }))
}
