import { randomInt } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Command } from 'commander'
import { loadRules } from '../../detection/load-rules.js'
import { PurpleError } from '../../errors.js'
import { buildDebrief, readTelemetry, writeDebrief } from '../../exercise/debrief.js'
import { checkSinkUrl, type SinkOptions, TelemetryFeed } from '../../exercise/feed.js'
import { checkTeamName, FindingBook, newTeamToken, startFindingIntake } from '../../exercise/intake.js'
import { runLiveExercise } from '../../exercise/live.js'
import { buildPlan, DIFFICULTIES, type Difficulty, parseSeed, selectScenarios } from '../../exercise/plan.js'
import { recordExercise, replayExercise } from '../../exercise/replay.js'
import { createExerciseKey, readExerciseKey, writeTeamTokens } from '../../exercise/seal.js'
import {
  EXERCISE_FORMAT,
  type ExerciseMeta,
  files,
  OUTCOME_FORMAT,
  readMeta,
  readOutcome,
  readPlan,
  readStatus,
  writeOutcome,
  writePlan,
  writePublic,
} from '../../exercise/store.js'
import { attachRunServices } from '../../lab/compose.js'
import { canaryValues } from '../../lab/decoys/canaries.js'
import { venvDir } from '../../lab/decoys/venv.js'
import { chooseProvider, type EnvChoice } from '../../lab/detect.js'
import { kindProvider } from '../../lab/kind/index.js'
import { labHome, localProvider } from '../../lab/local/index.js'
import { assertSafeContext } from '../../lab/safety.js'
import { Redactor } from '../../redact/redactor.js'
import { cloudEnvFor } from '../../run/cloud-env.js'
import { newRunId } from '../../run/spec.js'
import { parseDuration } from '../../run/verdict.js'
import { loadScenarios } from '../../scenario/load.js'
import { createOutput, type Output } from '../../util/output.js'

const DEFAULT_DIR = path.join('exercises', 'current')
const collect = (v: string, prev: string[]) => [...prev, ...v.split(',').filter(Boolean)]

/** Durations for humans: 90s, 5m, 1.5m (the scenario format's parser). */
function duration(text: string, flag: string): number {
  try {
    return parseDuration(text)
  } catch {
    throw new PurpleError('PURPLE_USAGE', `${flag} must be a duration like 90s or 5m, got "${text}"`)
  }
}

function port(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw new PurpleError('PURPLE_USAGE', `--listen must be a port number 0-65535, got "${text}"`)
  return Number(text)
}

interface FeedFlags {
  forwardHec: string[]
  hecToken?: string
  forwardJsonl: string[]
}

function sinks(f: FeedFlags): SinkOptions[] {
  return [
    ...f.forwardHec.map((url) => ({
      format: 'hec' as const,
      url,
      ...(f.hecToken ? { token: f.hecToken } : {}),
    })),
    ...f.forwardJsonl.map((url) => ({ format: 'jsonl' as const, url })),
  ]
}

function teamTokens(names: string[]): Record<string, string> {
  const teams = names.length ? names : ['blue']
  if (new Set(teams).size !== teams.length) throw new PurpleError('PURPLE_USAGE', 'team names must differ')
  return Object.fromEntries(teams.map((t) => [checkTeamName(t), newTeamToken()]))
}

/** A fresh exercise directory: new, empty, or a previous exercise's that has ended. */
async function prepareDir(dir: string): Promise<void> {
  if (!existsSync(dir)) return
  const entries = await readdir(dir)
  if (!entries.length) return
  if (!entries.includes('exercise.json'))
    throw new PurpleError('PURPLE_USAGE', `${dir} holds other files: choose a new --dir`)
  const meta = await readMeta(dir)
  if (meta.state === 'running' || meta.state === 'setting-up')
    throw new PurpleError('PURPLE_USAGE', `exercise ${meta.id} in ${dir} is ${meta.state}`, {
      hint: 'wait for it to end, or use another --dir',
    })
  await rm(dir, { recursive: true, force: true })
}

interface StartFlags extends FeedFlags {
  seed?: string
  duration: string
  only: string[]
  technique: string[]
  difficulty: string
  attacks?: string
  team: string[]
  dir: string
  lab: string
  env: EnvChoice
  listen: string
  grace: string
}

async function start(paths: string[], f: StartFlags, o: Output): Promise<number> {
  if (!DIFFICULTIES.includes(f.difficulty as Difficulty))
    throw new PurpleError('PURPLE_USAGE', `--difficulty must be one of ${DIFFICULTIES.join(', ')}`)
  if (f.env !== 'auto' && f.env !== 'local' && f.env !== 'kind')
    throw new PurpleError('PURPLE_USAGE', '--env must be auto, local or kind for an exercise')
  const seedText = f.seed ?? process.env.PURPLEKIND_EXERCISE_SEED
  const seed = seedText !== undefined ? parseSeed(seedText) : randomInt(2 ** 31)
  const durationMs = duration(f.duration, '--duration')
  const graceMs = duration(f.grace, '--grace')
  const attacks = f.attacks !== undefined ? Number(f.attacks) : undefined
  if (attacks !== undefined && !(Number.isInteger(attacks) && attacks > 0))
    throw new PurpleError('PURPLE_USAGE', '--attacks must be a positive whole number')
  const outputs = sinks(f)
  for (const s of outputs) checkSinkUrl(s.url) // early: a typo fails before the lab comes up
  const scenarios = await loadScenarios(paths)
  const selected = selectScenarios({ scenarios, only: f.only, techniques: f.technique })
  const tokens = teamTokens(f.team)
  await prepareDir(f.dir)

  const runId = newRunId()
  const id = `ex-${runId}`
  const runDir = path.join(labHome(), 'runs', runId)
  const redactor = new Redactor()
  for (const t of Object.values(tokens)) redactor.add(t)
  const log = (l: string) => o.log(redactor.redact(l))
  const key = await createExerciseKey(id)
  const tokenFiles = await writeTeamTokens(id, tokens, 'teams')
  const choice = await chooseProvider(f.env, { local: localProvider, kind: kindProvider })
  log(`lab: ${choice.provider.name} — ${choice.reason}`)
  const done = o.task(`bringing up the ${choice.provider.name} lab "${f.lab}"`)
  const base = await choice.provider.up({ name: f.lab, log }).then(
    (lab) => {
      done(true, lab.context)
      return lab
    },
    (e: unknown) => {
      done(false)
      throw e
    },
  )
  assertSafeContext({ kubeconfig: base.kubeconfig, context: base.context, allowContexts: [] })
  const services = await attachRunServices(base, selected, runId, log)
  for (const v of canaryValues(services.canaries)) redactor.add(v)
  const abort = new AbortController()
  const onSignal = () => {
    log('interrupted: cleaning up')
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const meta: ExerciseMeta = {
    format: EXERCISE_FORMAT,
    id,
    createdAt: new Date().toISOString(),
    durationMs,
    teams: Object.keys(tokens),
    state: 'setting-up',
    provider: services.lab.provider,
  }
  let feed: TelemetryFeed | undefined
  let intake: Awaited<ReturnType<typeof startFindingIntake>> | undefined
  try {
    const plan = buildPlan({
      seed,
      durationMs,
      difficulty: f.difficulty as Difficulty,
      scenarios: selected,
      only: f.only,
      techniques: f.technique,
      capabilities: services.lab.capabilities,
      ...(attacks ? { attacks } : {}),
    })
    feed = await TelemetryFeed.open(f.dir, redactor, outputs)
    await writePlan(f.dir, id, plan, key)
    await writePublic(files(f.dir).meta, meta)
    const book = new FindingBook()
    intake = await startFindingIntake({ port: port(f.listen), teams: tokens, book, now: Date.now, log })
    meta.intake = intake.url
    await writePublic(files(f.dir).meta, meta)
    log(`exercise ${id}: plan sealed in ${files(f.dir).plan}`)
    log(`findings: POST ${intake.url}/alerts or /findings with "Authorization: Bearer <team token>"`)
    for (const [team, file] of Object.entries(tokenFiles)) log(`  team ${team}: token in ${file}`)
    let startedAt = 0
    const status = async (state: ExerciseMeta['state']) =>
      writePublic(files(f.dir).status, {
        id,
        state,
        elapsedMs: startedAt ? Math.min(Date.now() - startedAt, durationMs) : 0,
        durationMs,
        telemetry: feed?.stats().files ?? {},
        findings: Object.fromEntries(meta.teams.map((t) => [t, book.count(t)])),
        sinks: feed?.stats().sinks ?? [],
        updatedAt: new Date().toISOString(),
      })
    const live = await runLiveExercise({
      lab: services.lab,
      plan,
      scenarios: selected,
      runId,
      canaries: services.canaries,
      redactor,
      log,
      signal: abort.signal,
      runDir,
      venvBin: path.join(venvDir(), 'bin'),
      cloudEnv: cloudEnvFor(services),
      ...(services.docker ? { docker: services.docker } : {}),
      feed,
      onStart: async (at) => {
        startedAt = at
        Object.assign(meta, { state: 'running', startedAt: new Date(at).toISOString() })
        await writePublic(files(f.dir).meta, meta)
        await status('running')
      },
      onTick: () => status('running'),
    })
    if (abort.signal.aborted)
      throw new PurpleError('PURPLE_INTERRUPTED', 'exercise interrupted; lab objects were cleaned up')
    log(`exercise over; findings accepted for ${Math.round(graceMs / 1000)} s more`)
    await new Promise((r) => setTimeout(r, graceMs))
    await intake.stop()
    intake = undefined
    await feed.close()
    await writeOutcome(
      f.dir,
      {
        format: OUTCOME_FORMAT,
        id,
        startedAt: live.startedAt,
        endedAt: live.endedAt,
        actions: live.actions,
        attacks: live.attacks,
        findings: book.findings,
        teams: meta.teams,
      },
      key,
    )
    Object.assign(meta, { state: 'ended', endedAt: new Date().toISOString() })
    await writePublic(files(f.dir).meta, meta)
    await status('ended')
    if (o.json) o.out(JSON.stringify({ exercise: id, dir: f.dir, findings: book.findings.length }))
    else {
      o.out(
        `✔ exercise ${id} ended: ${live.actions.length} actions, ${book.findings.length} finding(s) received`,
      )
      o.out(`debrief: purplekind exercise debrief --dir ${f.dir}`)
    }
    return 0
  } catch (e) {
    meta.state = 'failed'
    await writePublic(files(f.dir).meta, meta).catch(() => undefined)
    throw e
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await intake?.stop()
    await feed?.close().catch(() => undefined)
    await services.stop()
  }
}

async function status(dir: string, o: Output): Promise<number> {
  const meta = await readMeta(dir)
  const s = await readStatus(dir)
  if (o.json) {
    o.out(JSON.stringify({ ...s, id: meta.id, state: meta.state, teams: meta.teams, intake: meta.intake }))
    return 0
  }
  const elapsed = Math.round((s?.elapsedMs ?? 0) / 1000)
  o.out(
    `exercise ${meta.id}: ${meta.state}${meta.replayOf ? ' (replay)' : ''} — ${elapsed} s of ${Math.round(meta.durationMs / 1000)} s`,
  )
  const tel = Object.entries(s?.telemetry ?? {})
  o.out(
    `telemetry: ${tel.length ? tel.map(([k, v]) => `${k} ${v}`).join(', ') : 'none yet'} (in ${files(dir).telemetry})`,
  )
  for (const sink of s?.sinks ?? [])
    o.out(
      `forwarded (${sink.format}) ${sink.url}: ${sink.sent} sent${sink.failures ? `, ${sink.failures} failed attempt(s): ${sink.lastError}` : ''}`,
    )
  for (const team of meta.teams) o.out(`team ${team}: ${s?.findings[team] ?? 0} finding(s) submitted`)
  if (meta.intake && meta.state === 'running') o.out(`findings: POST ${meta.intake}/alerts or /findings`)
  return 0
}

interface SubmitFlags {
  dir: string
  url?: string
  token?: string
  tokenFile?: string
  time: string
  actor?: string
  technique?: string
  note?: string
  auditId?: string
}

async function submit(f: SubmitFlags, o: Output): Promise<number> {
  const token =
    f.token ??
    (f.tokenFile ? (await readFile(f.tokenFile, 'utf8')).trim() : process.env.PURPLEKIND_TEAM_TOKEN)
  if (!token)
    throw new PurpleError('PURPLE_USAGE', 'submit needs --token-file, --token or PURPLEKIND_TEAM_TOKEN')
  const base = f.url ?? (await readMeta(f.dir)).intake
  if (!base) throw new PurpleError('PURPLE_USAGE', 'the exercise has no findings intake (is it running?)')
  const time = /^\d+$/.test(f.time) ? Number(f.time) : Date.parse(f.time)
  if (!Number.isFinite(time))
    throw new PurpleError('PURPLE_USAGE', `--time must be ISO 8601 or epoch ms, got "${f.time}"`)
  const body = {
    time: new Date(time).toISOString(),
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.technique ? { technique: f.technique } : {}),
    ...(f.note ? { note: f.note } : {}),
    ...(f.auditId ? { auditID: f.auditId } : {}),
  }
  let res: Response
  try {
    res = await fetch(`${base.replace(/\/$/, '')}/findings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
  } catch (e) {
    throw new PurpleError(
      'PURPLE_USAGE',
      `cannot reach the findings intake at ${base}: ${(e as Error).message}`,
    )
  }
  const reply = (await res.json().catch(() => ({}))) as { ids?: string[]; error?: string }
  if (!res.ok)
    throw new PurpleError('PURPLE_USAGE', `finding refused (HTTP ${res.status}): ${reply.error ?? ''}`)
  o.out(o.json ? JSON.stringify(reply) : `✔ finding ${reply.ids?.join(', ')} submitted`)
  return 0
}

async function debrief(f: { dir: string; keyFile?: string; rules: string[] }, o: Output): Promise<number> {
  const meta = await readMeta(f.dir)
  if (meta.state !== 'ended')
    throw new PurpleError('PURPLE_USAGE', `exercise ${meta.id} is ${meta.state}: debrief once it has ended`)
  const key = await readExerciseKey(meta.id, f.keyFile)
  const plan = await readPlan(f.dir, meta.id, key)
  const outcome = await readOutcome(f.dir, meta.id, key)
  const telemetry = await readTelemetry(f.dir)
  const ruleSet = await loadRules(f.rules.length ? f.rules : ['detections'])
  const report = buildDebrief(meta, plan, outcome, telemetry, ruleSet)
  const written = await writeDebrief(f.dir, report, outcome, telemetry)
  if (o.json) {
    o.out(JSON.stringify({ exercise: meta.id, teams: report.teams, files: written }))
    return 0
  }
  o.out(`exercise ${meta.id}: ${report.attacks.length} attacks (seed ${report.seed}, ${report.difficulty})`)
  for (const t of report.teams) {
    const missed = report.attacks.filter((a) => !a.teams.find((x) => x.team === t.team)?.found)
    o.out(
      `team ${t.team}: score ${t.score} — recall ${(t.recall * 100).toFixed(1)}%, precision ${(t.precision * 100).toFixed(1)}%, ${t.findings} finding(s); missed: ${missed.map((a) => `${a.id} ${a.step}`).join(', ') || 'none'}`,
    )
  }
  o.out(`debrief: ${path.join(files(f.dir).debrief, 'report.md')}`)
  return 0
}

interface ReplayFlags extends FeedFlags {
  dir: string
  team: string[]
  speed: string
  listen: string
  grace: string
  keyFile?: string
}

async function replay(recording: string, f: ReplayFlags, o: Output): Promise<number> {
  const recorded = await readMeta(recording)
  const key = await readExerciseKey(recorded.id, f.keyFile)
  const tokens = teamTokens(f.team)
  await prepareDir(f.dir)
  const tokenFiles = await writeTeamTokens(recorded.id, tokens, `class-${newRunId()}`)
  const abort = new AbortController()
  const onSignal = () => abort.abort()
  process.on('SIGINT', onSignal)
  try {
    const outcome = await replayExercise({
      recording,
      dir: f.dir,
      key,
      teams: tokens,
      speed: Number(f.speed),
      port: port(f.listen),
      sinks: sinks(f),
      graceMs: duration(f.grace, '--grace'),
      log: (l) => o.log(l),
      signal: abort.signal,
      onListening: (url) => {
        o.log(`replaying ${recorded.id} at ×${f.speed}; findings: POST ${url}/alerts or /findings`)
        for (const [team, file] of Object.entries(tokenFiles)) o.log(`  team ${team}: token in ${file}`)
      },
    })
    o.out(
      `✔ replay ended: ${outcome.findings.length} finding(s); debrief: purplekind exercise debrief --dir ${f.dir}`,
    )
    return 0
  } finally {
    process.off('SIGINT', onSignal)
  }
}

function feedOptions(cmd: Command): Command {
  return cmd
    .option(
      '--forward-hec <url>',
      'also forward telemetry to a Splunk HEC endpoint on loopback (repeatable)',
      collect,
      [],
    )
    .option('--hec-token <token>', 'HEC token (sent as "Authorization: Splunk <token>")')
    .option(
      '--forward-jsonl <url>',
      'also POST telemetry as JSON lines to a loopback URL (repeatable)',
      collect,
      [],
    )
}

export function registerExerciseCommands(program: Command): void {
  const ex = program
    .command('exercise')
    .description(
      'training exercises: a sealed, seeded red campaign among background traffic; blue teams hunt and are scored',
    )
  const out = () => createOutput(program.opts())

  feedOptions(
    ex
      .command('start')
      .description('run a seeded, sealed attack plan among background traffic on a lab')
      .argument('[paths...]', 'scenario files or directories', ['scenarios'])
      .option('--seed <n>', 'plan seed (same seed, same plan; default random; or PURPLEKIND_EXERCISE_SEED)')
      .option('--duration <d>', 'exercise length, e.g. 20m', '20m')
      .option(
        '--only <ids>',
        'draw attacks only from these scenarios (id or its last part; repeatable)',
        collect,
        [],
      )
      .option('--technique <ids>', 'draw attacks only from scenarios of these ATT&CK techniques', collect, [])
      .option('--difficulty <level>', 'easy | normal | hard (noise and look-alikes)', 'normal')
      .option('--attacks <n>', 'number of attack chains (default from duration and difficulty)')
      .option('--team <name>', 'a blue team (repeatable; default "blue")', collect, [])
      .option('--dir <dir>', 'exercise directory (telemetry, status, sealed plan)', DEFAULT_DIR)
      .option('--lab <name>', 'lab name', 'default')
      .option('--env <env>', 'lab: auto | local | kind', 'auto')
      .option('--listen <port>', 'findings intake port on 127.0.0.1 (0: any free port)', '0')
      .option('--grace <d>', 'findings still accepted this long after the end', '30s'),
  ).action(async (paths: string[], f: StartFlags) => {
    process.exitCode = await start(paths, f, out())
  })

  ex.command('status')
    .description('progress of an exercise (never the plan)')
    .option('--dir <dir>', 'exercise directory', DEFAULT_DIR)
    .action(async (f: { dir: string }) => {
      process.exitCode = await status(f.dir, out())
    })

  ex.command('submit')
    .description('submit a finding by hand')
    .requiredOption('--time <time>', 'when the activity happened (ISO 8601 or epoch ms)')
    .option('--actor <who>', 'the identity that did it')
    .option('--technique <id>', 'ATT&CK technique, e.g. T1552.007')
    .option('--note <text>', 'what you saw')
    .option('--audit-id <id>', 'the Kubernetes audit ID of the event')
    .option('--token-file <file>', "your team's token file")
    .option('--token <token>', "your team's token (visible to other users in ps: prefer --token-file)")
    .option('--dir <dir>', 'exercise directory (to find the intake)', DEFAULT_DIR)
    .option('--url <url>', 'the intake URL, instead of reading it from --dir')
    .action(async (f: SubmitFlags) => {
      process.exitCode = await submit(f, out())
    })

  ex.command('debrief')
    .description('reveal the plan, score every team, write report.md/json, timeline.svg and vectr.csv')
    .option('--dir <dir>', 'exercise directory', DEFAULT_DIR)
    .option('--key-file <file>', 'the exercise key, if not in the instructor directory')
    .option('--rules <path>', 'built-in rules to check the attacks against (repeatable)', collect, [])
    .action(async (f: { dir: string; keyFile?: string; rules: string[] }) => {
      process.exitCode = await debrief(f, out())
    })

  ex.command('record')
    .description('keep a finished exercise (telemetry + sealed plan and outcome) for replay to a class')
    .option('--dir <dir>', 'exercise directory', DEFAULT_DIR)
    .requiredOption('--out <dir>', 'where to write the recording')
    .action(async (f: { dir: string; out: string }) => {
      const copied = await recordExercise(f.dir, f.out)
      out().out(`✔ recorded ${copied.length} file(s) to ${f.out}`)
    })

  feedOptions(
    ex
      .command('replay')
      .description('replay a recorded exercise to a class, no lab; each team scored separately')
      .argument('<recording>', 'directory written by `exercise record`')
      .option('--dir <dir>', 'the class exercise directory', DEFAULT_DIR)
      .option('--team <name>', 'a student or team (repeatable)', collect, [])
      .option('--speed <x>', 'replay speed (1 = as recorded)', '1')
      .option('--listen <port>', 'findings intake port on 127.0.0.1', '0')
      .option('--grace <d>', 'findings still accepted this long after the end', '30s')
      .option('--key-file <file>', 'the exercise key, if not in the instructor directory'),
  ).action(async (recording: string, f: ReplayFlags) => {
    process.exitCode = await replay(recording, f, out())
  })
}
