// `purplekind merge-reports`: the shards of one suite (`--shard i/n`, one lab each, e.g. a GitHub Actions
// matrix) joined back into one run, whose four outputs are written as if it had run on one machine.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { PurpleError } from '../errors.js'
import type { RunResult, StepResult, TelemetryCounts } from '../run/result.js'
import type { Selection } from '../run/select.js'
import { summarize } from '../run/summary.js'
import { readReport } from './diff.js'
import type { ReportJson } from './report-schema.js'

export interface ShardReport {
  /** Where it was read from, for error messages. */
  file: string
  report: ReportJson
}

/** A run folder, its report.json, or a reports root (its `latest/`): what a shard job uploads. */
export function reportFileOf(where: string): string {
  if (existsSync(path.join(where, 'report.json'))) return path.join(where, 'report.json')
  if (existsSync(path.join(where, 'latest', 'report.json'))) return path.join(where, 'latest', 'report.json')
  return where
}

export async function readShardReports(wheres: readonly string[]): Promise<ShardReport[]> {
  const out: ShardReport[] = []
  for (const w of wheres) {
    const file = reportFileOf(w)
    out.push({ file, report: await readReport(file) })
  }
  return out
}

/** report.json back to the in-memory result the reporters render (summary and duration are recomputed). */
function toResult(r: ReportJson): RunResult {
  const { reportVersion: _v, durationMs: _d, summary: _s, ...rest } = r
  return { ...rest, steps: rest.steps as StepResult[], summary: summarize(rest.steps as StepResult[]) }
}

const SHARD_FILTER = /^--shard /

/**
 * Joins shard reports into one run. A step reported by two shards is an error (the same shard merged
 * twice, or shards of different `--shard n`), never silently kept once.
 */
export function mergeReports(shards: readonly ShardReport[], runId: string): RunResult {
  if (!shards.length) throw new PurpleError('PURPLE_USAGE', 'merge-reports needs at least one report')
  const results = shards.map((s) => toResult(s.report))
  const owner = new Map<string, string>()
  const runs = new Map<string, string>()
  const steps: StepResult[] = []
  results.forEach((r, i) => {
    const file = (shards[i] as ShardReport).file
    const again = runs.get(r.runId)
    if (again)
      throw new PurpleError('PURPLE_REPORT_INVALID', `${file}: run ${r.runId} is also ${again}`, {
        hint: 'merge each shard once',
      })
    runs.set(r.runId, file)
    for (const s of r.steps) {
      const key = `${s.scenario}/${s.step}`
      const first = owner.get(key)
      if (first)
        throw new PurpleError('PURPLE_REPORT_INVALID', `${file}: step ${key} is also in ${first}`, {
          hint: 'merge each shard once, all from the same --shard i/n split',
        })
      owner.set(key, file)
      steps.push(s)
    }
  })
  const scenarios = uniqueBy(
    results.flatMap((r) => r.scenarios),
    (s) => s.id,
  )
  const findings = uniqueBy(
    results.flatMap((r) => r.findings),
    (f) => `${f.kind}\0${f.step ?? ''}\0${f.rule ?? ''}\0${f.message}`,
  )
  const rules = uniqueBy(
    results.flatMap((r) => r.rules),
    (r) => `${r.id}\0${r.file}`,
  )
  const telemetry: TelemetryCounts = {}
  for (const r of results)
    for (const [k, n] of Object.entries(r.telemetry) as [keyof TelemetryCounts, number][])
      telemetry[k] = (telemetry[k] ?? 0) + n
  const distinct = (xs: string[]) => [...new Set(xs)].join(', ')
  const repeats = new Set(results.map((r) => r.repeat ?? 1))
  const selection = mergedSelection(results, steps.length)
  const first = results[0] as RunResult
  return {
    runId,
    startedAt: minIso(results.map((r) => r.startedAt)),
    finishedAt: maxIso(results.map((r) => r.finishedAt)),
    lab: distinct(results.map((r) => r.lab)),
    provider: distinct(results.map((r) => r.provider)),
    scenarios,
    steps,
    summary: summarize(steps),
    manifest: { ...first.manifest, mergedFrom: results.map((r) => r.runId).join(', ') },
    findings,
    telemetry,
    rules,
    ...(selection ? { selection } : {}),
    ...(repeats.size === 1 && first.repeat ? { repeat: first.repeat } : {}),
  }
}

/**
 * The merged run's scope: the shards' other filters (the shard split itself is undone by merging), or
 * none when the shards together ran everything. Shards merged without all their siblings stay partial.
 */
function mergedSelection(results: readonly RunResult[], selectedSteps: number): Selection | undefined {
  const sels = results.map((r) => r.selection).filter((s): s is Selection => s !== undefined)
  if (!sels.length) return undefined
  const filters = [...new Set(sels.flatMap((s) => s.filters.filter((f) => !SHARD_FILTER.test(f))))]
  const definedSteps = Math.max(...sels.map((s) => s.definedSteps))
  const prerequisites = sels.flatMap((s) => s.prerequisites)
  if (!filters.length && selectedSteps >= definedSteps) return undefined
  const shards = [...new Set(sels.flatMap((s) => s.filters.filter((f) => SHARD_FILTER.test(f))))]
  return {
    filters: filters.length ? filters : [`merged ${shards.join(', ')}`],
    selectedSteps,
    definedSteps,
    prerequisites,
  }
}

function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>()
  return items.filter((t) => {
    if (seen.has(key(t))) return false
    seen.add(key(t))
    return true
  })
}

const minIso = (xs: string[]) => xs.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a))
const maxIso = (xs: string[]) => xs.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a))
