import type { Engine } from '../detection/engine.js'
import type { Alert } from '../detection/types.js'
import type { TelemetryCollector } from '../lab/provider.js'
import type { TelemetryEvent } from '../telemetry/event.js'

/**
 * Receives live telemetry from every collector and runs the built-in detection pipeline on each event
 * as it arrives, so an alert's time is when the pipeline raised it (the detection latency that matters).
 * External pipelines add their alerts with `addAlert`.
 */
export class TelemetryBus {
  readonly events: TelemetryEvent[] = []
  readonly alerts: Alert[] = []
  readonly #alertsByEvent = new Map<TelemetryEvent, Alert[]>()
  readonly #collectors: TelemetryCollector[] = []
  readonly #engine: Engine
  #waiters: (() => void)[] = []

  constructor(engine: Engine) {
    this.#engine = engine
  }

  async start(collectors: readonly TelemetryCollector[]): Promise<void> {
    for (const c of collectors) {
      await c.start((e) => this.push(e))
      this.#collectors.push(c)
    }
  }

  push(event: TelemetryEvent): void {
    this.events.push(event)
    const now = new Date().toISOString()
    for (const a of this.#engine.evaluateEvents([event]))
      this.addAlert({ ...a, alertTime: now, evidence: a.evidence ?? event })
    // SPL pipelines run over every event their first search matched so far in this run (see docs/spl.md).
    for (const a of this.#engine.flushPipelines(now)) this.addAlert(a)
    for (const w of this.#waiters.splice(0)) w()
  }

  addAlert(alert: Alert): void {
    this.alerts.push(alert)
    // A pipeline row's alert belongs to every event that formed it.
    for (const e of alert.contributors ?? (alert.evidence ? [alert.evidence] : [])) {
      const list = this.#alertsByEvent.get(e) ?? []
      list.push(alert)
      this.#alertsByEvent.set(e, list)
    }
  }

  alertsOn(events: readonly TelemetryEvent[]): Alert[] {
    return events.flatMap((e) => this.#alertsByEvent.get(e) ?? [])
  }

  /** Resolves on the next event or after `ms`, whichever is first. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t)
        resolve()
      }
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake)
        resolve()
      }, ms)
      this.#waiters.push(wake)
    })
  }

  async stop(): Promise<void> {
    for (const c of this.#collectors.splice(0)) await c.stop().catch(() => undefined)
  }
}
