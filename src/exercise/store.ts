// The exercise directory: what the blue side may read (telemetry, status, the public description) next
// to the sealed plan and outcome, which only the instructor's key opens.
//
//   exercise.json        public: id, duration, teams, intake URL, state
//   status.json          public: progress (elapsed, telemetry and findings counts) — never the plan
//   telemetry/<src>.jsonl public: one file per source, tail-able
//   plan.sealed          the plan (AES-256-GCM)
//   outcome.sealed       what ran, the attacks' telemetry links and every team's findings (AES-256-GCM)
//   debrief/             after `exercise debrief`: report.md, report.json, timeline.svg, vectr.csv
import { lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PurpleError } from '../errors.js'
import type { ProviderName } from '../lab/provider.js'
import type { ActionTrace } from '../run/correlate.js'
import type { SourceName } from '../telemetry/event.js'
import type { FeedStats } from './feed.js'
import type { ActionKind, ExercisePlan } from './plan.js'
import type { AttackRecord, Finding } from './score.js'
import { readSealed, writeSealed } from './seal.js'

export const EXERCISE_FORMAT = 'purplekind.io/exercise/v1'
export const OUTCOME_FORMAT = 'purplekind.io/exercise-outcome/v1'

export interface ExerciseMeta {
  format: typeof EXERCISE_FORMAT
  id: string
  createdAt: string
  durationMs: number
  teams: string[]
  state: 'setting-up' | 'running' | 'ended' | 'failed'
  startedAt?: string
  endedAt?: string
  /** Where teams POST /alerts and /findings while the exercise runs. */
  intake?: string
  /** Set on a replayed class: the recorded exercise it replays. */
  replayOf?: string
  /** The lab it runs on; `replay` for a replayed class (no lab). */
  provider: ProviderName | 'replay'
}

export interface ExerciseStatus {
  id: string
  state: ExerciseMeta['state']
  elapsedMs: number
  durationMs: number
  telemetry: Partial<Record<SourceName, number>>
  findings: Record<string, number>
  sinks: FeedStats['sinks']
  updatedAt: string
}

/** One action as it ran (every kind; for the timeline). */
export interface ActionLog {
  id: string
  kind: ActionKind
  title: string
  identity: string
  command: string
  sentAt: number
  endedAt: number
  exitCode: number
}

export interface AttackOutcome extends AttackRecord {
  trace: ActionTrace
}

export interface ExerciseOutcome {
  format: typeof OUTCOME_FORMAT
  id: string
  startedAt: number
  endedAt: number
  actions: ActionLog[]
  attacks: AttackOutcome[]
  findings: Finding[]
  teams: string[]
}

export const planLabel = (id: string) => `plan:${id}`
export const outcomeLabel = (id: string) => `outcome:${id}`

export const files = (dir: string) => ({
  meta: path.join(dir, 'exercise.json'),
  status: path.join(dir, 'status.json'),
  plan: path.join(dir, 'plan.sealed'),
  outcome: path.join(dir, 'outcome.sealed'),
  telemetry: path.join(dir, 'telemetry'),
  debrief: path.join(dir, 'debrief'),
})

/** Replaces a public JSON file atomically (readers never see half a file). */
export async function writePublic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 })
  await rename(tmp, file)
}

export async function readMeta(dir: string): Promise<ExerciseMeta> {
  const file = files(dir).meta
  let meta: ExerciseMeta
  try {
    meta = JSON.parse(await readFile(file, 'utf8')) as ExerciseMeta
  } catch {
    throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${file}: no exercise here`, {
      hint: 'start one with: purplekind exercise start --dir <dir>',
    })
  }
  if (meta.format !== EXERCISE_FORMAT)
    throw new PurpleError('PURPLE_EVENTS_INVALID', `${file}:format: expected ${EXERCISE_FORMAT}`)
  return meta
}

export async function readStatus(dir: string): Promise<ExerciseStatus | undefined> {
  try {
    return JSON.parse(await readFile(files(dir).status, 'utf8')) as ExerciseStatus
  } catch {
    return undefined
  }
}

export const writePlan = (dir: string, id: string, plan: ExercisePlan, key: Buffer) =>
  writeSealed(files(dir).plan, plan, key, planLabel(id))
export const readPlan = (dir: string, id: string, key: Buffer) =>
  readSealed<ExercisePlan>(files(dir).plan, key, planLabel(id))
export const writeOutcome = (dir: string, o: ExerciseOutcome, key: Buffer) =>
  writeSealed(files(dir).outcome, o, key, outcomeLabel(o.id))
export const readOutcome = (dir: string, id: string, key: Buffer) =>
  readSealed<ExerciseOutcome>(files(dir).outcome, key, outcomeLabel(id))

/**
 * Creates `dir` (and parents) or accepts an existing one only if it is a real directory of this user that
 * nobody else can write: the exercise writes files there (as root, for the local lab), and a directory
 * another user can write could hold a symlink planted to redirect those writes.
 */
export async function ownDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 })
  const st = await lstat(dir)
  const uid = process.geteuid?.()
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || st.mode & 0o022)
    throw new PurpleError(
      'PURPLE_USAGE',
      `${dir} must be a directory owned by this user and writable by no one else`,
      { hint: 'choose a --dir/--out of your own (the exercise writes files there)' },
    )
  return dir
}
