import type { Engine } from '../../detection/engine.js'
import type { DetectionPipeline } from './pipeline.js'

/** The harness's own Sigma / SPL / Falco engines, evaluated synchronously on each event. */
export function builtinPipeline(engine: Engine): DetectionPipeline {
  return {
    name: 'builtin',
    attach(host) {
      host.onEvent((event) => {
        for (const a of engine.evaluateEvents([event]))
          host.addAlert({ ...a, alertTime: host.alertTime(event), evidence: a.evidence ?? event })
      })
    },
    settle: async () => undefined,
    stop: async () => undefined,
  }
}
