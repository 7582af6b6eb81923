import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PurpleError } from '../errors.js'
import type { ProviderName } from '../lab/provider.js'
import type { Redactor } from '../redact/redactor.js'
import { SOURCES, type SourceName, type TelemetryEvent } from '../telemetry/event.js'
import type { ActionRecord } from './actions.js'
import type { ActionTrace } from './correlate.js'
import type { StepResult } from './result.js'

/** One step as recorded: enough to re-decide its verdict offline. All strings are redacted. */
export interface RecordedStep {
  scenario: string
  step: string
  trace: ActionTrace
  exitCode: number
  stderr: string
  stdout: string
  canariesRetrieved: string[]
  actor: string
}

export interface Recording {
  format: 'purplekind.io/recording/v1'
  runId: string
  /** The lab the run was recorded on (a recording file's own word: read back as text). */
  provider: string
  manifest: Record<string, string>
  steps: RecordedStep[]
  /** Steps the recording lab could not run, with why: replayed as SKIPPED, not NOT_RECORDED. */
  skipped?: { scenario: string; step: string; reason: string }[]
  /** Audit ids of the harness's own requests (setup, tokens): never attributed to a step. */
  harnessAuditIDs: string[]
  /** Recorded event counts per source file (telemetry/<source>.jsonl). */
  telemetry: Partial<Record<SourceName, number>>
}

/** Only a live run on a lab is recorded. */
interface RecorderMeta {
  runId: string
  provider: ProviderName
  manifest: Record<string, string>
}

/**
 * Saves a live run's redacted telemetry and step traces so `purplekind replay` can re-assert the same
 * expectations with no lab. Telemetry is written in each source's native record format, one file per
 * source, so `purplekind evaluate` reads the same files.
 */
export class Recorder {
  readonly #dir: string
  readonly #redactor: Redactor
  readonly #steps: RecordedStep[] = []
  readonly #skipped: NonNullable<Recording['skipped']> = []
  readonly #meta: RecorderMeta

  constructor(dir: string, redactor: Redactor, meta: RecorderMeta) {
    this.#dir = dir
    this.#redactor = redactor
    this.#meta = meta
  }

  async addStep(
    scenario: string,
    step: string,
    trace: ActionTrace,
    a: ActionRecord,
    r: StepResult,
  ): Promise<void> {
    this.#steps.push({
      scenario,
      step,
      trace,
      exitCode: a.exitCode,
      stderr: this.#redactor.redact(a.stderr.slice(-2000)),
      stdout: this.#redactor.redact(a.stdout.slice(-2000)),
      canariesRetrieved: r.canariesRetrieved,
      actor: r.actor,
    })
  }

  addSkipped(scenario: string, step: string, reason: string): void {
    this.#skipped.push({ scenario, step, reason: this.#redactor.redact(reason) })
  }

  async writeTelemetry(
    events: readonly TelemetryEvent[],
    harnessAuditIDs: ReadonlySet<string>,
  ): Promise<void> {
    await mkdir(path.join(this.#dir, 'telemetry'), { recursive: true })
    const counts: Partial<Record<SourceName, number>> = {}
    for (const source of SOURCES) {
      const lines = events
        .filter((e) => e.source === source)
        .map((e) => JSON.stringify(this.#redactor.redactValue(e.raw)))
      if (!lines.length) continue
      counts[source] = lines.length
      await writeFile(path.join(this.#dir, 'telemetry', `${source}.jsonl`), `${lines.join('\n')}\n`)
    }
    const rec: Recording = {
      format: 'purplekind.io/recording/v1',
      ...this.#meta,
      manifest: this.#redactor.redactValue(this.#meta.manifest),
      steps: this.#steps,
      skipped: this.#skipped,
      harnessAuditIDs: [...harnessAuditIDs],
      telemetry: counts,
    }
    await writeFile(path.join(this.#dir, 'recording.json'), `${JSON.stringify(rec, null, 2)}\n`)
  }
}

export async function readRecording(dir: string): Promise<Recording> {
  const file = path.join(dir, 'recording.json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${file}: no recording here`, {
      hint: 'record one with: purplekind run --record <dir>',
    })
  }
  const rec = JSON.parse(text) as Recording
  if (rec.format !== 'purplekind.io/recording/v1')
    throw new PurpleError(
      'PURPLE_EVENTS_INVALID',
      `${file}:format: expected purplekind.io/recording/v1, got ${JSON.stringify(rec.format)}`,
    )
  return rec
}
