// Replayable classes. `record` keeps a finished exercise — its telemetry and the still-sealed plan and
// outcome — and `replay` plays that telemetry again to a class, with no lab: the same files and HTTP
// forwarding as live, on the recording's own timeline (optionally faster), while each student posts
// findings with their own token. At the end, the class's findings are sealed next to the recorded
// attacks, and `exercise debrief` scores every student.
import { existsSync } from 'node:fs'
import { copyFile, readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { PurpleError } from '../errors.js'
import { Redactor } from '../redact/redactor.js'
import { SOURCES, type SourceName } from '../telemetry/event.js'
import { parseLine } from '../telemetry/normalize.js'
import { type FeedRecord, type SinkOptions, TelemetryFeed } from './feed.js'
import { FindingBook, startFindingIntake } from './intake.js'
import {
  EXERCISE_FORMAT,
  type ExerciseMeta,
  type ExerciseOutcome,
  files,
  ownDir,
  readMeta,
  readOutcome,
  writeOutcome,
  writePublic,
} from './store.js'

/** Copies a finished exercise into `out` (which must be new or empty). */
export async function recordExercise(dir: string, out: string): Promise<string[]> {
  const meta = await readMeta(dir)
  if (meta.state !== 'ended')
    throw new PurpleError('PURPLE_USAGE', `exercise ${meta.id} is ${meta.state}: record it once it has ended`)
  if (existsSync(out) && (await readdir(out)).length)
    throw new PurpleError('PURPLE_USAGE', `${out} is not empty: record into a new directory`)
  const src = files(dir)
  const dst = files(out)
  await ownDir(out)
  await ownDir(dst.telemetry)
  const copied: string[] = []
  for (const key of ['meta', 'plan', 'outcome'] as const) {
    await copyFile(src[key], dst[key])
    copied.push(dst[key])
  }
  for (const s of SOURCES) {
    const f = path.join(src.telemetry, `${s}.jsonl`)
    if (!existsSync(f)) continue
    await copyFile(f, path.join(dst.telemetry, `${s}.jsonl`))
    copied.push(path.join(dst.telemetry, `${s}.jsonl`))
  }
  return copied
}

/** The recording's telemetry in time order, each raw record with its event time. */
export async function readRecordedFeed(dir: string): Promise<FeedRecord[]> {
  const out: FeedRecord[] = []
  for (const source of SOURCES) {
    const file = path.join(files(dir).telemetry, `${source}.jsonl`)
    if (!existsSync(file)) continue
    for (const text of (await readFile(file, 'utf8')).split('\n')) {
      if (!text.trim()) continue
      let raw: Record<string, unknown>
      let timeMs: number | undefined
      try {
        raw = JSON.parse(text) as Record<string, unknown>
        timeMs = parseLine(text, source as SourceName)[0]?.timeMs
      } catch {
        continue
      }
      if (timeMs !== undefined) out.push({ source, timeMs, raw })
    }
  }
  return out.sort((a, b) => a.timeMs - b.timeMs)
}

export interface ReplayOptions {
  recording: string
  dir: string
  key: Buffer
  teams: Readonly<Record<string, string>>
  /** 1 = real time; 10 = ten times faster. */
  speed: number
  port: number
  sinks: readonly SinkOptions[]
  /** Wall-clock time findings are still accepted after the last event. */
  graceMs: number
  log: (line: string) => void
  signal: AbortSignal
  /** Called once the intake listens (its URL is in exercise.json). */
  onListening?(url: string): void
}

export async function replayExercise(o: ReplayOptions): Promise<ExerciseOutcome> {
  if (!(o.speed > 0 && o.speed <= 1000)) throw new PurpleError('PURPLE_USAGE', '--speed must be in (0, 1000]')
  const recorded = await readMeta(o.recording)
  const outcome = await readOutcome(o.recording, recorded.id, o.key)
  const records = await readRecordedFeed(o.recording)
  await ownDir(o.dir)
  if (existsSync(files(o.dir).meta))
    throw new PurpleError('PURPLE_USAGE', `${o.dir} already holds an exercise: replay into a new directory`)
  await copyFile(files(o.recording).plan, files(o.dir).plan)
  const meta: ExerciseMeta = {
    format: EXERCISE_FORMAT,
    id: recorded.id,
    replayOf: recorded.id,
    createdAt: new Date().toISOString(),
    durationMs: outcome.endedAt - outcome.startedAt,
    teams: Object.keys(o.teams),
    state: 'setting-up',
    provider: 'replay',
  }
  const feed = await TelemetryFeed.open(o.dir, new Redactor(), o.sinks)
  const book = new FindingBook()
  const t0 = Date.now()
  // The class's clock is the recording's: findings get times on the recorded timeline.
  const virtual = () => outcome.startedAt + (Date.now() - t0) * o.speed
  const intake = await startFindingIntake({ port: o.port, teams: o.teams, book, now: virtual, log: o.log })
  const status = async () =>
    writePublic(files(o.dir).status, {
      id: meta.id,
      state: meta.state,
      elapsedMs: Math.max(0, virtual() - outcome.startedAt),
      durationMs: meta.durationMs,
      telemetry: feed.stats().files,
      findings: Object.fromEntries(meta.teams.map((t) => [t, book.count(t)])),
      sinks: feed.stats().sinks,
      updatedAt: new Date().toISOString(),
    })
  try {
    Object.assign(meta, { state: 'running', startedAt: new Date(t0).toISOString(), intake: intake.url })
    await writePublic(files(o.dir).meta, meta)
    o.onListening?.(intake.url)
    let lastStatus = 0
    for (const r of records) {
      const wait = t0 + (r.timeMs - outcome.startedAt) / o.speed - Date.now()
      if (wait > 0 && !(await sleep(wait, o.signal))) break
      feed.pushRecord(r)
      if (Date.now() - lastStatus > 1000) {
        lastStatus = Date.now()
        await status()
      }
    }
    const end = t0 + (outcome.endedAt - outcome.startedAt) / o.speed
    if (end > Date.now()) await sleep(end - Date.now(), o.signal)
    await feed.flush()
    await status()
    o.log(`replay done; findings accepted for ${Math.round(o.graceMs / 1000)} s more`)
    await sleep(o.graceMs, o.signal)
  } finally {
    await intake.stop()
    await feed.close()
  }
  const classOutcome: ExerciseOutcome = { ...outcome, findings: book.findings, teams: Object.keys(o.teams) }
  await writeOutcome(o.dir, classOutcome, o.key)
  Object.assign(meta, { state: 'ended', endedAt: new Date().toISOString() })
  await writePublic(files(o.dir).meta, meta)
  await status()
  return classOutcome
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', stop)
      resolve(true)
    }, ms)
    const stop = () => {
      clearTimeout(t)
      resolve(false)
    }
    signal.addEventListener('abort', stop, { once: true })
  })
}
