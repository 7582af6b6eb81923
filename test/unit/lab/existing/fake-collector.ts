// A FAKE audit collector for the existing-cluster preflight tests: test code pushes events, each carrying
// only an audit ID, into whatever sink is subscribed, and the collector counts its starts and stops.
import type { TelemetryCollector } from '../../../../src/lab/provider.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'

export function fakeCollector() {
  let sink: ((e: TelemetryEvent) => void) | undefined
  const state = { started: 0, stopped: 0 }
  const collector: TelemetryCollector = {
    source: 'k8s-audit',
    async start(s) {
      state.started += 1
      sink = s
    },
    async stop() {
      state.stopped += 1
      sink = undefined
    },
  }
  const emit = (auditID: string) =>
    sink?.({
      source: 'k8s-audit',
      sourcetype: 'kubernetes:api',
      index: 'containers',
      time: new Date().toISOString(),
      timeMs: Date.now(),
      raw: { auditID },
      derived: {},
      auditID,
    })
  return { collector, emit, state }
}
