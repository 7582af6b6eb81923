import type { Engine } from '../detection/engine.js'
import type { Alert } from '../detection/types.js'
import type { TelemetryCollector, TelemetryLoss } from '../lab/provider.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import { builtinPipeline } from './pipelines/builtin.js'
import type { DetectionPipeline, PipelineHost } from './pipelines/pipeline.js'
import type { Finding } from './result.js'

export interface TelemetryBusOptions {
  /**
   * When an alert counts as raised. Live: the wall clock, so latency is what the pipeline really took.
   * Replay: the triggering event's own time (there is no live clock to measure against).
   */
  clock?: 'wall' | 'event'
}

/**
 * Receives live telemetry from every collector and hands each event to the attached detection
 * pipelines as it arrives, so an alert's time is when a pipeline raised it (the latency that matters).
 * Problems the pipelines report (malformed output, a crashed program) are kept for the run's findings.
 */
export class TelemetryBus implements PipelineHost {
  readonly events: TelemetryEvent[] = []
  readonly alerts: Alert[] = []
  /** Problems pipelines reported, in order (for the run's findings). */
  readonly problems: string[] = []
  /** Telemetry the collectors could not deliver, by source and kind (count, first reason). */
  readonly losses = new Map<string, TelemetryLoss>()
  readonly #alertsByEvent = new Map<TelemetryEvent, Alert[]>()
  readonly #collectors: TelemetryCollector[] = []
  readonly #pipelines: DetectionPipeline[] = []
  readonly #listeners: ((e: TelemetryEvent) => void)[] = []
  readonly #clock: 'wall' | 'event'
  #waiters: (() => void)[] = []

  /** With an engine, the built-in pipeline is attached at once (what every run had before pipelines). */
  constructor(engine?: Engine, options: TelemetryBusOptions = {}) {
    this.#clock = options.clock ?? 'wall'
    if (engine) {
      const builtin = builtinPipeline(engine, { offline: this.#clock === 'event' })
      void builtin.attach(this)
      this.#pipelines.push(builtin)
    }
  }

  /** Attaches pipelines in order; each sees every event pushed from then on. */
  async attach(pipelines: readonly DetectionPipeline[]): Promise<void> {
    for (const p of pipelines) {
      await p.attach(this)
      this.#pipelines.push(p)
    }
  }

  async start(collectors: readonly TelemetryCollector[]): Promise<void> {
    for (const c of collectors) {
      await c.start(
        (e) => this.push(e),
        (loss) => this.lose(loss),
      )
      this.#collectors.push(c)
    }
  }

  onEvent(listener: (e: TelemetryEvent) => void): void {
    this.#listeners.push(listener)
  }

  alertTime(event: TelemetryEvent | undefined): string {
    return this.#clock === 'event' && event ? event.time : new Date().toISOString()
  }

  /** Counts telemetry a collector lost; the first reason per source and kind is kept. */
  lose(loss: TelemetryLoss): void {
    const key = `${loss.source}\u0000${loss.kind}`
    const seen = this.losses.get(key)
    if (seen) seen.count += loss.count
    else this.losses.set(key, { ...loss })
  }

  problem(message: string): void {
    this.problems.push(message)
  }

  push(event: TelemetryEvent): void {
    this.events.push(event)
    for (const l of this.#listeners) l(event)
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
    for (const w of this.#waiters.splice(0)) w()
  }

  alertsOn(events: readonly TelemetryEvent[]): Alert[] {
    return events.flatMap((e) => this.#alertsByEvent.get(e) ?? [])
  }

  /** Resolves on the next event or alert, or after `ms`, whichever is first. */
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

  /** Waits until every pipeline has processed what it was given (offline: all events are in). */
  async settle(): Promise<void> {
    for (const p of this.#pipelines) await p.settle?.()
  }

  async stop(): Promise<void> {
    for (const c of this.#collectors.splice(0)) await c.stop().catch(() => undefined)
    for (const p of this.#pipelines.splice(0))
      await p
        .stop()
        .catch((e: unknown) => this.problem(`pipeline ${p.name} did not stop cleanly: ${String(e)}`))
  }
}

/** Pipeline problems as report findings. */
export function problemFindings(problems: readonly string[]): Finding[] {
  return problems.map((message) => ({ kind: 'pipeline-problem', message }))
}

/** Telemetry loss as report findings: "3 k8s-audit line(s) unreadable (first: …)". */
export function lossFindings(losses: Iterable<TelemetryLoss>): Finding[] {
  return [...losses].map((l) => ({
    kind: 'telemetry-loss',
    message: `${l.count} ${l.source} ${l.kind === 'unreadable' ? 'line(s) unreadable' : 'event(s) dropped'} (first: ${l.reason})`,
  }))
}

/** Findings that mean the verdicts rest on incomplete telemetry or a failing pipeline (`--strict`). */
export function isTelemetryLoss(f: Finding): boolean {
  return f.kind === 'telemetry-loss' || f.kind === 'pipeline-problem'
}
