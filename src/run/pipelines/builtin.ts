import type { Engine } from '../../detection/engine.js'
import type { DetectionPipeline, PipelineHost } from './pipeline.js'

/**
 * The harness's own Sigma / SPL / Falco engines, evaluated synchronously on each event. SPL pipeline
 * rules (stats, …) run over what their search matched so far: after every event live, once over the
 * whole recording offline (`settle`).
 */
export function builtinPipeline(engine: Engine, o: { offline?: boolean } = {}): DetectionPipeline {
  let host: PipelineHost | undefined
  return {
    name: 'builtin',
    attach(h) {
      host = h
      h.onEvent((event) => {
        const now = h.alertTime(event)
        for (const a of engine.evaluateEvents([event]))
          h.addAlert({ ...a, alertTime: now, evidence: a.evidence ?? event })
        if (!o.offline) for (const a of engine.flushPipelines(now)) h.addAlert(a)
      })
    },
    async settle() {
      if (o.offline) for (const a of engine.flushPipelines()) host?.addAlert(a)
    },
    stop: async () => undefined,
  }
}
