// The offline half of an exercise, on a hand-built exercise directory (plan, outcome, telemetry as a live
// run writes them): the debrief (report, timeline SVG, VECTR CSV), then record + replay to a class with
// no lab, a student posting over real HTTP, scored on their own.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadRules } from '../../../src/detection/load-rules.js'
import { buildDebrief, readTelemetry, writeDebrief } from '../../../src/exercise/debrief.js'
import { recordExercise, replayExercise } from '../../../src/exercise/replay.js'
import { files, readMeta, readOutcome, readPlan } from '../../../src/exercise/store.js'
import { csvCell, renderVectrCsv } from '../../../src/exercise/vectr.js'

import { fakeExercise, key } from './fixture.js'

const ruleSet = await loadRules(['detections'])

describe('debrief', () => {
  it('reveals the plan, scores each team, names every missed attack and embeds the timeline', async () => {
    const { dir, outcome, meta } = await fakeExercise()
    const plan = await readPlan(dir, meta.id, key)
    const telemetry = await readTelemetry(dir)
    const report = buildDebrief(meta, plan, outcome, telemetry, ruleSet)
    const [blue, quiet] = report.teams
    expect(blue).toMatchObject({ team: 'blue', recall: 0.5, precision: 0.5, findings: 2, matched: 1 })
    expect(quiet).toMatchObject({ team: 'quiet', recall: 0, findings: 0, score: 0 })
    const [caught, missed] = report.attacks
    expect(caught?.teams[0]).toMatchObject({ found: true, ttdMs: 4_000 })
    expect(caught?.builtinRules).toContain('k8s-secrets-list-by-human')
    expect(caught?.evidence[0]?.auditID).toBe(`audit-${caught?.id}`)
    expect(missed?.teams[0]?.nearest?.why).toBeTruthy()
    await writeDebrief(dir, report, outcome, telemetry)
    const md = readFileSync(path.join(files(dir).debrief, 'report.md'), 'utf8')
    expect(md).toContain('![Exercise timeline')
    expect(md).toContain('(timeline.svg)')
    expect(md).toMatch(new RegExp(`\\*\\*blue\\*\\* missed 1 of 2:\\n  - ${missed?.id}`))
    expect(md).toMatch(
      new RegExp(`\\*\\*quiet\\*\\* missed 2 of 2:\\n  - ${caught?.id}.*\\n  - ${missed?.id}`),
    )
    expect(md).not.toContain('<img src=x>')
    const json = JSON.parse(readFileSync(path.join(files(dir).debrief, 'report.json'), 'utf8'))
    expect(json.plan).toHaveLength(plan.actions.length)
    expect(json.seed).toBe(7)
    const svg = readFileSync(path.join(files(dir).debrief, 'timeline.svg'), 'utf8')
    expect(svg).toContain('Red team — attacks')
    expect(svg).toContain('Blue — quiet')
    expect(svg).toContain('+4 s') // the detection delay of the caught attack
    expect(svg).toContain('(missed)')
    expect(svg).not.toMatch(/<script>|<img/)
    if (spawnSync('xmllint', ['--version']).status === 0)
      expect(spawnSync('xmllint', ['--noout', path.join(files(dir).debrief, 'timeline.svg')]).status).toBe(0)
    else console.log('xmllint absent: SVG well-formedness not checked by a parser')
    const csv = readFileSync(path.join(files(dir).debrief, 'vectr.csv'), 'utf8').split('\r\n')
    expect(csv[0]).toBe(
      'Campaign,Test Case Name,Technique ID,Phase,Description,Red Team Tools,Status,Outcome,Outcome Notes,Start Time,Stop Time,Detection Time,Blue Team',
    )
    expect(csv.filter((l) => l.endsWith(',blue') && l.includes(',Detected,'))).toHaveLength(1)
    expect(csv.filter((l) => l.includes(',Not Detected,'))).toHaveLength(3)
  })

  it('CSV cells cannot become spreadsheet formulas or break rows', () => {
    expect(csvCell('=cmd|calc')).toBe("'=cmd|calc")
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"')
    expect(renderVectrCsv([]).split('\r\n')).toHaveLength(2)
  })
})

describe('record + replay', () => {
  it('replays the recorded telemetry to a class with no lab and scores a new student alone', async () => {
    const { dir } = await fakeExercise()
    const rec = mkdtempSync(path.join(tmpdir(), 'pk-rec-'))
    const copied = await recordExercise(dir, rec)
    expect(copied.some((f) => f.endsWith('plan.sealed'))).toBe(true)
    const recOutcome = await readOutcome(rec, 'ex-test', key)
    const classDir = path.join(mkdtempSync(path.join(tmpdir(), 'pk-class-')), 'class')
    const attack = recOutcome.attacks[1]!
    let posted: Promise<Response> | undefined
    const outcome = await replayExercise({
      recording: rec,
      dir: classDir,
      key,
      teams: { student2: 'student2-token-xxxxxxxx' },
      speed: 100,
      port: 0,
      sinks: [],
      graceMs: 300,
      log: () => undefined,
      signal: new AbortController().signal,
      onListening: (url) => {
        // The student reads the class's telemetry file and reports the second attack's event.
        posted = new Promise((r) => setTimeout(r, 200)).then(() =>
          fetch(`${url}/alerts`, {
            method: 'POST',
            headers: { authorization: 'Bearer student2-token-xxxxxxxx' },
            body: JSON.stringify({
              rule: 'student-rule',
              auditID: `audit-${attack.id}`,
              time: attack.sentAt,
            }),
          }),
        )
      },
    })
    expect((await posted)?.status).toBe(202)
    const telemetry = readFileSync(path.join(classDir, 'telemetry', 'k8s-audit.jsonl'), 'utf8')
    expect(telemetry).toBe(readFileSync(path.join(rec, 'telemetry', 'k8s-audit.jsonl'), 'utf8'))
    expect(outcome.findings).toHaveLength(1)
    const meta = await readMeta(classDir)
    expect(meta).toMatchObject({ replayOf: 'ex-test', state: 'ended', teams: ['student2'] })
    const report = buildDebrief(
      meta,
      await readPlan(classDir, meta.id, key),
      outcome,
      await readTelemetry(classDir),
      ruleSet,
    )
    expect(report.teams).toHaveLength(1)
    expect(report.teams[0]).toMatchObject({ team: 'student2', recall: 0.5, precision: 1 })
    // On the recording's clock: posted ~200 ms into a ×100 replay → ~20 s after the exercise start.
    const ttd = report.attacks[1]?.teams[0]?.ttdMs ?? -1
    expect(existsSync(path.join(classDir, 'outcome.sealed'))).toBe(true)
    expect(ttd).toBeGreaterThanOrEqual(0)
  })

  it('refuses to record a running exercise or into a used directory', async () => {
    const { dir } = await fakeExercise()
    await expect(recordExercise(dir, dir)).rejects.toThrow(/not empty/)
  })
})
