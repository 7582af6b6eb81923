// `purplekind diff`: what changed between two runs' report.json, per step and rule, so a nightly job can
// say "this rule regressed since yesterday". A regression: a step that met its expectation no longer does,
// an attack step loses a rule that fired, or a benign step gains one. Improvements are the reverse.
import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { PurpleError } from '../errors.js'
import { type ReportJson, reportSchema } from './report-schema.js'

type ReportStep = ReportJson['steps'][number]

export interface Change {
  /** `scenario/step` */
  step: string
  /** Set when the change is about one rule. */
  rule?: string
  from: string
  to: string
  message: string
}

export interface RunDiff {
  base: string
  head: string
  regressions: Change[]
  improvements: Change[]
  /** Steps only in the base run (not run this time: a selection, a shard, a removed step). */
  missing: string[]
  /** Steps only in the head run. */
  added: string[]
}

/** Reads a run's report.json, from the file or its run folder, and checks it against the schema. */
export async function readReport(where: string): Promise<ReportJson> {
  const file = existsSync(where) && statSync(where).isDirectory() ? path.join(where, 'report.json') : where
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${file}: no report.json here`, {
      hint: 'pass a run folder (reports/<run-id>) or its report.json',
    })
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (e) {
    throw new PurpleError('PURPLE_REPORT_INVALID', `${file}: not JSON (${(e as Error).message})`)
  }
  const parsed = reportSchema.safeParse(data)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new PurpleError(
      'PURPLE_REPORT_INVALID',
      `${file}:${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'} (schemas/report.schema.json)`,
      { hint: 'reports from an older purplekind (reportVersion 1) cannot be compared; re-run or replay' },
    )
  }
  return parsed.data
}

const key = (s: ReportStep) => `${s.scenario}/${s.step}`

export function diffReports(base: ReportJson, head: ReportJson): RunDiff {
  const before = new Map(base.steps.map((s) => [key(s), s]))
  const after = new Map(head.steps.map((s) => [key(s), s]))
  const diff: RunDiff = {
    base: base.runId,
    head: head.runId,
    regressions: [],
    improvements: [],
    missing: [...before.keys()].filter((k) => !after.has(k)),
    added: [...after.keys()].filter((k) => !before.has(k)),
  }
  for (const [id, b] of after) {
    const a = before.get(id)
    if (!a) continue
    if (a.passed !== b.passed || a.verdict !== b.verdict) {
      const change = { step: id, from: a.verdict, to: b.verdict }
      if (a.passed && !b.passed)
        diff.regressions.push({
          ...change,
          message: `${a.verdict} → ${b.verdict}: no longer meets its expectation`,
        })
      else if (!a.passed && b.passed)
        diff.improvements.push({
          ...change,
          message: `${a.verdict} → ${b.verdict}: now meets its expectation`,
        })
    }
    // Skipped or unrecorded steps fired nothing: comparing their rules would only add noise.
    const ran = (s: ReportStep) => s.verdict !== 'SKIPPED' && s.verdict !== 'NOT_RECORDED'
    if (!ran(a) || !ran(b)) continue
    const lost = a.rules.filter((r) => !b.rules.includes(r))
    const gained = b.rules.filter((r) => !a.rules.includes(r))
    for (const rule of lost) {
      const c = { step: id, rule, from: 'fired', to: 'silent' }
      if (b.kind === 'attack') diff.regressions.push({ ...c, message: `rule ${rule} no longer fires` })
      else diff.improvements.push({ ...c, message: `rule ${rule} no longer fires on this benign step` })
    }
    for (const rule of gained) {
      const c = { step: id, rule, from: 'silent', to: 'fired' }
      if (b.kind === 'attack') diff.improvements.push({ ...c, message: `rule ${rule} now fires` })
      else diff.regressions.push({ ...c, message: `rule ${rule} now fires on this benign step` })
    }
  }
  return diff
}

/** Plain lines for a terminal or a CI log. */
export function formatDiff(d: RunDiff): string[] {
  const lines = [
    d.regressions.length
      ? `✖ ${d.regressions.length} regression(s) since ${d.base}`
      : `✔ no regressions since ${d.base}`,
    ...d.regressions.map((c) => `  - ${c.step}: ${c.message}`),
  ]
  if (d.improvements.length)
    lines.push(
      `${d.improvements.length} improvement(s):`,
      ...d.improvements.map((c) => `  + ${c.step}: ${c.message}`),
    )
  if (d.missing.length) lines.push(`not in this run (${d.missing.length}): ${d.missing.join(', ')}`)
  if (d.added.length) lines.push(`new in this run (${d.added.length}): ${d.added.join(', ')}`)
  return lines
}
