// The debrief: the plan revealed, every team scored, and per attack the evidence, the finding that
// caught it (or the nearest miss and why it did not count), and which built-in rule fires on it.
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Engine } from '../detection/engine.js'
import type { NearMiss, RuleSet } from '../detection/types.js'
import { Redactor } from '../redact/redactor.js'
import { code, mdText, table } from '../report/markdown-text.js'
import { correlate } from '../run/correlate.js'
import { toEvidence } from '../run/evidence.js'
import type { StepEvidence } from '../run/result.js'
import { SOURCES, type TelemetryEvent } from '../telemetry/event.js'
import { parseLine } from '../telemetry/normalize.js'
import type { ExercisePlan } from './plan.js'
import {
  FAST_MS,
  type Finding,
  nearestFinding,
  SLOW_MS,
  scoreTeam,
  type TeamScore,
  WEIGHTS,
  WINDOW_AFTER_MS,
  WINDOW_BEFORE_MS,
} from './score.js'
import { type ExerciseMeta, type ExerciseOutcome, files, ownDir } from './store.js'
import { renderTimeline } from './timeline-svg.js'
import { renderVectrCsv, type VectrRow } from './vectr.js'

export const DEBRIEF_FORMAT = 'purplekind.io/exercise-debrief/v1'

export interface AttackDebrief {
  id: string
  atMs: number
  /** When the action returned, from the exercise start. */
  endMs: number
  scenario: string
  step: string
  title: string
  techniques: string[]
  identity: string
  command: string
  exitCode: number
  evidence: StepEvidence[]
  /** Built-in rules that fire on the attack's telemetry. */
  builtinRules: string[]
  /** When none fires: the built-in rule that came closest and the field that differed. */
  builtinNearMiss?: NearMiss
  teams: {
    team: string
    found: boolean
    by?: Finding
    ttdMs?: number
    duplicates: number
    nearest?: { finding: Finding; why: string }
  }[]
}

export interface DebriefReport {
  format: typeof DEBRIEF_FORMAT
  exercise: string
  replayOf?: string
  seed: number
  difficulty: string
  durationMs: number
  startedAt: string
  endedAt: string
  actions: { attacks: number; lookalikes: number; background: number }
  telemetry: Record<string, number>
  scoreFormula: string
  teams: TeamScore[]
  attacks: AttackDebrief[]
  unmatchedFindings: Finding[]
  plan: {
    id: string
    atMs: number
    kind: string
    scenario: string
    step: string
    identity: string
    command: string
    exitCode: number
  }[]
}

export const SCORE_FORMULA = `score = 100 × (${WEIGHTS.recall}·recall + ${WEIGHTS.precision}·precision + ${WEIGHTS.timeliness}·timeliness); timeliness = Σ speed(time to detect) / attacks, speed = 1 up to ${FAST_MS / 1000} s, linearly 0 at ${SLOW_MS / 60_000} min`

/** Reads the blue side's telemetry files back as events (what they saw, redacted). */
export async function readTelemetry(dir: string): Promise<TelemetryEvent[]> {
  const out: TelemetryEvent[] = []
  for (const source of SOURCES) {
    const file = path.join(files(dir).telemetry, `${source}.jsonl`)
    if (!existsSync(file)) continue
    const lines = (await readFile(file, 'utf8')).split('\n')
    lines.forEach((text, i) => {
      if (!text.trim()) return
      try {
        out.push(...parseLine(text, source, { origin: { file, line: i + 1 } }))
      } catch {
        // a line a source cannot normalize is not evidence; the blue side saw it as is
      }
    })
  }
  return out.sort((a, b) => a.timeMs - b.timeMs)
}

export function buildDebrief(
  meta: ExerciseMeta,
  plan: ExercisePlan,
  outcome: ExerciseOutcome,
  telemetry: readonly TelemetryEvent[],
  ruleSet: RuleSet,
): DebriefReport {
  const teams = outcome.teams.map((t) => scoreTeam(t, outcome.attacks, outcome.findings))
  const byId = new Map(outcome.findings.map((f) => [f.id, f]))
  const attacks = outcome.attacks.map((a): AttackDebrief => {
    const events = correlate(a.trace, telemetry, new Set()).events
    const fired = [...new Set(new Engine(ruleSet).evaluateEvents(events).map((x) => x.rule))].sort()
    const near = fired.length ? undefined : nearestRule(ruleSet, events)
    return {
      id: a.id,
      atMs: a.sentAt - outcome.startedAt,
      endMs: a.endedAt - outcome.startedAt,
      scenario: a.scenario,
      step: a.step,
      title: a.title,
      techniques: a.techniques,
      identity: a.identity,
      command: a.command,
      exitCode: a.exitCode,
      evidence: toEvidence(events),
      builtinRules: fired,
      ...(near ? { builtinNearMiss: near } : {}),
      teams: teams.map((s) => {
        const score = s.attacks.find((x) => x.attack === a.id)
        const by = score?.by ? byId.get(score.by) : undefined
        const mine = outcome.findings.filter((f) => f.team === s.team)
        const nearest = by ? undefined : nearestFinding(a, mine)
        return {
          team: s.team,
          found: Boolean(score?.found),
          ...(by ? { by } : {}),
          ...(score?.ttdMs !== undefined ? { ttdMs: score.ttdMs } : {}),
          duplicates: score?.duplicates.length ?? 0,
          ...(nearest ? { nearest } : {}),
        }
      }),
    }
  })
  const counts: Record<string, number> = {}
  for (const e of telemetry) counts[e.source] = (counts[e.source] ?? 0) + 1
  const logs = new Map(outcome.actions.map((l) => [l.id, l]))
  const kinds = (k: string) => plan.actions.filter((a) => a.kind === k).length
  return {
    format: DEBRIEF_FORMAT,
    exercise: meta.id,
    ...(meta.replayOf ? { replayOf: meta.replayOf } : {}),
    seed: plan.seed,
    difficulty: plan.difficulty,
    durationMs: plan.durationMs,
    startedAt: new Date(outcome.startedAt).toISOString(),
    endedAt: new Date(outcome.endedAt).toISOString(),
    actions: { attacks: kinds('attack'), lookalikes: kinds('lookalike'), background: kinds('background') },
    telemetry: counts,
    scoreFormula: SCORE_FORMULA,
    teams,
    attacks,
    unmatchedFindings: teams.flatMap((s) => s.unmatched.map((id) => byId.get(id) as Finding)),
    plan: plan.actions.map((a) => {
      const l = logs.get(a.id)
      return {
        id: a.id,
        atMs: a.atMs,
        kind: a.kind,
        scenario: a.scenario,
        step: a.step.id,
        identity: l?.identity ?? '',
        command: l?.command ?? a.step.run.join(' '),
        exitCode: l?.exitCode ?? -1,
      }
    }),
  }
}

function nearestRule(ruleSet: RuleSet, events: readonly TelemetryEvent[]): NearMiss | undefined {
  let best: NearMiss | undefined
  for (const rule of ruleSet.rules)
    for (const e of events) {
      const nm = rule.nearMiss?.(e)
      if (nm && (!best || nm.score > best.score)) best = nm
    }
  return best
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`
const secs = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`)
const clock = (ms: number) => {
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
const label = (a: { scenario: string; step: string }) => `${a.scenario.replace(/^t[\d.]+\./, '')}/${a.step}`

function describeFinding(f: Finding): string {
  const parts = [
    `${f.id} (${f.via}${f.rule ? ` ${f.rule}` : ''})`,
    ...(f.auditID ? [`auditID ${f.auditID}`] : []),
    ...(f.actor ? [`actor ${f.actor}`] : []),
    ...(f.technique ? [f.technique] : []),
    ...(f.note ? [`“${f.note}”`] : []),
  ]
  return parts.join(', ')
}

export function renderDebriefMarkdown(r: DebriefReport): string {
  const out: string[] = []
  out.push(`# Exercise debrief — ${mdText(r.exercise)}`, '')
  if (r.replayOf) out.push(`Replay of recorded exercise ${code(r.replayOf)} (no lab).`, '')
  out.push(
    `Seed **${r.seed}**, difficulty **${r.difficulty}**, ${Math.round(r.durationMs / 1000)} s from ${r.startedAt} to ${r.endedAt}: ` +
      `**${r.actions.attacks} attack steps** among ${r.actions.lookalikes} look-alikes and ${r.actions.background} background actions; ` +
      `${Object.values(r.telemetry).reduce((a, b) => a + b, 0)} telemetry events (${
        Object.entries(r.telemetry)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      }).`,
    '',
    '## Scores',
    '',
    table(
      ['Team', 'Score', 'Recall', 'Precision', 'Timeliness', 'Findings', 'Matched', 'Unmatched'],
      r.teams.map((t) => [
        mdText(t.team),
        String(t.score),
        `${pct(t.recall)} (${t.attacks.filter((a) => a.found).length}/${t.attacks.length})`,
        `${pct(t.precision)} (${t.matched}/${t.findings})`,
        pct(t.timeliness),
        String(t.findings),
        String(t.matched),
        String(t.unmatched.length),
      ]),
      'lrrrrrrr',
    ),
    '',
    `Formula: ${mdText(r.scoreFormula)}. A finding matches an attack by audit ID, or by time (−${WINDOW_BEFORE_MS / 1000} s/+${WINDOW_AFTER_MS / 1000} s) with a fitting actor or technique; see docs/exercises.md.`,
    '',
    '## Timeline',
    '',
    '![Exercise timeline: red attacks, background, telemetry and each team’s findings](timeline.svg)',
    '',
    '## Missed attacks',
    '',
  )
  for (const t of r.teams) {
    const missed = r.attacks.filter((a) => !a.teams.find((x) => x.team === t.team)?.found)
    out.push(
      `- **${mdText(t.team)}** missed ${missed.length} of ${r.attacks.length}${missed.length ? ':' : '.'}`,
      ...missed.map((a) => `  - ${a.id} at ${clock(a.atMs)} — ${code(label(a))}: ${mdText(a.title)}`),
    )
  }
  out.push('', '## Attacks', '')
  out.push(
    table(
      ['#', 'At', 'Attack', 'Actor', 'Command', ...r.teams.map((t) => mdText(t.team)), 'Built-in rules'],
      r.attacks.map((a) => [
        a.id,
        clock(a.atMs),
        code(label(a), true),
        mdText(a.identity),
        code(a.command, true),
        ...a.teams.map((t) => (t.found ? `✅ ${secs(t.ttdMs)}` : '❌ missed')),
        a.builtinRules.length ? a.builtinRules.map((x) => code(x, true)).join(' ') : '—',
      ]),
    ),
    '',
  )
  for (const a of r.attacks) {
    out.push(`### ${a.id} ${mdText(label(a))} — ${mdText(a.title)}`, '')
    out.push(
      `At ${clock(a.atMs)} as ${mdText(a.identity)}: ${code(a.command)} (exit ${a.exitCode}); ${a.techniques.join(', ')}.`,
      '',
    )
    for (const t of a.teams) {
      if (t.found && t.by)
        out.push(
          `- **${mdText(t.team)}**: caught by ${mdText(describeFinding(t.by))} after ${secs(t.ttdMs)}${t.duplicates ? ` (+${t.duplicates} duplicate finding(s))` : ''}.`,
        )
      else
        out.push(
          `- **${mdText(t.team)}**: **missed**.${t.nearest ? ` Nearest finding: ${mdText(describeFinding(t.nearest.finding))} — did not count: ${mdText(t.nearest.why)}.` : ' No finding at all.'}`,
        )
    }
    if (a.builtinRules.length)
      out.push(
        `- Built-in rules that fire on this telemetry: ${a.builtinRules.map((x) => code(x)).join(', ')}.`,
      )
    else if (a.builtinNearMiss)
      out.push(
        `- No built-in rule fires; nearest: ${code(a.builtinNearMiss.rule)} (field ${code(a.builtinNearMiss.field)}: expected ${mdText(a.builtinNearMiss.expected)}, got ${code(JSON.stringify(a.builtinNearMiss.actual) ?? 'nothing')}).`,
      )
    else out.push('- No built-in rule fires on this telemetry.')
    if (a.evidence.length) {
      out.push('', 'Evidence:', '')
      for (const e of a.evidence) out.push(`- ${e.time} ${e.source}: ${code(e.excerpt)}`)
    } else out.push('', 'Evidence: no telemetry could be tied to this action.')
    out.push('')
  }
  out.push('## Findings that matched no attack', '')
  if (!r.unmatchedFindings.length) out.push('None.')
  for (const f of r.unmatchedFindings)
    out.push(`- ${mdText(f.team)}: ${mdText(describeFinding(f))} at ${new Date(f.time).toISOString()}`)
  out.push('', '## The plan', '')
  out.push(
    table(
      ['#', 'At', 'Kind', 'Step', 'Actor', 'Command', 'Exit'],
      r.plan.map((p) => [
        p.id,
        clock(p.atMs),
        p.kind === 'attack' ? '**attack**' : p.kind,
        code(label(p), true),
        mdText(p.identity),
        code(p.command, true),
        String(p.exitCode),
      ]),
    ),
    '',
  )
  return `${out.join('\n')}\n`
}

export function vectrRows(r: DebriefReport): VectrRow[] {
  return r.attacks.flatMap((a) =>
    a.teams.map((t) => ({
      campaign: `purplekind ${r.exercise}`,
      name: `${a.id} ${label(a)}`,
      technique: a.techniques[0] ?? '',
      phase: 'Credential Access',
      description: `${a.title}: ${a.command}`,
      tools: a.command.split(' ')[0] ?? '',
      outcome: t.found ? ('Detected' as const) : ('Not Detected' as const),
      notes: t.found && t.by ? `caught by ${describeFinding(t.by)}` : (t.nearest?.why ?? 'no finding'),
      start: Date.parse(r.startedAt) + a.atMs,
      stop: Date.parse(r.startedAt) + a.endMs,
      ...(t.by ? { detectionTime: t.by.receivedAt } : {}),
      blueTeam: t.team,
    })),
  )
}

/** Writes debrief/report.md, report.json, timeline.svg and vectr.csv; returns their paths. */
export async function writeDebrief(
  dir: string,
  report: DebriefReport,
  outcome: ExerciseOutcome,
  telemetry: readonly TelemetryEvent[],
): Promise<string[]> {
  await ownDir(dir)
  const out = await ownDir(files(dir).debrief)
  const labels = new Map(report.attacks.map((a) => [a.id, label(a)]))
  const svg = renderTimeline({
    title: `Exercise ${report.exercise} — seed ${report.seed}, ${report.difficulty}`,
    startedAt: outcome.startedAt,
    endedAt: outcome.endedAt,
    actions: outcome.actions,
    labels,
    telemetry: telemetry.map((e) => e.timeMs),
    findings: outcome.findings,
    teams: report.teams,
  })
  const written: [string, string][] = [
    ['report.md', renderDebriefMarkdown(report)],
    ['report.json', `${JSON.stringify(report, null, 2)}\n`],
    ['timeline.svg', svg],
    ['vectr.csv', renderVectrCsv(vectrRows(report))],
  ]
  // Telemetry and commands were redacted as they were written; a last pass catches credential shapes in
  // what teams wrote (notes) before anything is shown to the class.
  const redactor = new Redactor()
  for (const [name, text] of written) await writeFile(path.join(out, name), redactor.redact(text))
  return written.map(([name]) => path.join(out, name))
}
