// A hand-built, ended exercise directory (plan, outcome, telemetry as a live run writes them), for the
// offline tests of debrief, record + replay and the CLI.
import { mkdtempSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { buildPlan } from '../../../src/exercise/plan.js'
import type { Finding } from '../../../src/exercise/score.js'
import {
  EXERCISE_FORMAT,
  type ExerciseMeta,
  type ExerciseOutcome,
  files,
  OUTCOME_FORMAT,
  writeOutcome,
  writePlan,
  writePublic,
} from '../../../src/exercise/store.js'
import { loadScenarios } from '../../../src/scenario/load.js'

export const key = Buffer.alloc(32, 3)
const T0 = Date.parse('2026-11-30T10:00:00Z')
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z')

function audit(id: string, at: number, user: string, o: { marker?: string; verb?: string } = {}) {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/secrets?limit=500',
    verb: o.verb ?? 'list',
    user: { username: 'kubernetes-admin' },
    impersonatedUser: {
      username: user,
      ...(o.marker ? { extra: { 'purplekind.io/step': [o.marker] } } : {}),
    },
    userAgent: 'kubectl/v1.36.3',
    objectRef: { resource: 'secrets' },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: iso(at),
    stageTimestamp: iso(at + 50),
  })
}

/** An ended exercise: list-secrets attacks at their planned times, one background event. */
export async function fakeExercise(): Promise<{ dir: string; outcome: ExerciseOutcome; meta: ExerciseMeta }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pk-exd-'))
  const scenarios = await loadScenarios(['scenarios/t1552.007/01-list-secrets.yaml'])
  const caps = { realPods: false, networkPolicy: false, docker: false }
  const plan = buildPlan({
    seed: 7,
    durationMs: 60_000,
    difficulty: 'easy',
    scenarios,
    capabilities: caps,
    attacks: 2,
  })
  const lines: string[] = []
  const actions = plan.actions.map((a) => {
    const who =
      'user' in a.step.actor ? a.step.actor.user : 'system:serviceaccount:purple-shop:shop-controller'
    return {
      id: a.id,
      kind: a.kind,
      title: a.step.title,
      identity: who,
      command: `${a.step.run.join(' ')}${a.kind === 'attack' ? ' <script>' : ''}`,
      sentAt: T0 + a.atMs,
      endedAt: T0 + a.atMs + 300,
      exitCode: 0,
    }
  })
  const attacks = plan.actions
    .filter((a) => a.kind === 'attack')
    .map((a) => {
      const log = actions.find((l) => l.id === a.id)!
      lines.push(audit(`audit-${a.id}`, log.sentAt + 20, log.identity, { marker: `m-${a.id}` }))
      return {
        id: a.id,
        scenario: a.scenario,
        step: a.step.id,
        title: a.step.title,
        techniques: a.techniques,
        identity: log.identity,
        command: log.command,
        sentAt: log.sentAt,
        endedAt: log.endedAt,
        exitCode: 0,
        auditIDs: [`audit-${a.id}`],
        trace: {
          tool: 'kubectl',
          identity: log.identity,
          sentAt: log.sentAt,
          endedAt: log.endedAt,
          auditIDs: [],
          marker: `m-${a.id}`,
        },
      }
    })
  lines.push(audit('audit-bg', T0 + 3_000, 'dana@example.com', { verb: 'get' }))
  lines.sort((a, b) => JSON.parse(a).stageTimestamp.localeCompare(JSON.parse(b).stageTimestamp))
  await mkdir(files(dir).telemetry, { recursive: true })
  await writeFile(path.join(files(dir).telemetry, 'k8s-audit.jsonl'), `${lines.join('\n')}\n`)
  const first = attacks[0]!
  const findings: Finding[] = [
    {
      id: 'f001',
      team: 'blue',
      via: 'alert',
      receivedAt: first.sentAt + 4_000,
      time: first.sentAt,
      rule: 'mine',
      auditID: `audit-${first.id}`,
    },
    {
      id: 'f002',
      team: 'blue',
      via: 'manual',
      receivedAt: T0 + 5_000,
      time: T0 + 3_000,
      actor: 'dana',
      note: '<img src=x>',
    },
  ]
  const outcome: ExerciseOutcome = {
    format: OUTCOME_FORMAT,
    id: 'ex-test',
    startedAt: T0,
    endedAt: T0 + 63_000,
    actions,
    attacks,
    findings,
    teams: ['blue', 'quiet'],
  }
  const meta: ExerciseMeta = {
    format: EXERCISE_FORMAT,
    id: 'ex-test',
    createdAt: new Date(T0).toISOString(),
    durationMs: 60_000,
    teams: ['blue', 'quiet'],
    state: 'ended',
    provider: 'local',
  }
  await writePlan(dir, 'ex-test', plan, key)
  await writeOutcome(dir, outcome, key)
  await writePublic(files(dir).meta, meta)
  return { dir, outcome, meta }
}
