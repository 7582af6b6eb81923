import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { type Command, Option } from 'commander'
import { loadRules } from '../../detection/load-rules.js'
import type { RuleSet } from '../../detection/types.js'
import { formatIssue, type Issue, PurpleError } from '../../errors.js'
import { attachRunServices } from '../../lab/compose.js'
import { canaryValues } from '../../lab/decoys/canaries.js'
import { venvDir } from '../../lab/decoys/venv.js'
import { chooseProvider, type EnvChoice } from '../../lab/detect.js'
import { labHome } from '../../lab/local/index.js'
import type { Lab, LabProvider } from '../../lab/provider.js'
import { LAB_PROVIDERS, loadProviders } from '../../lab/registry.js'
import { assertSafeContext } from '../../lab/safety.js'
import { Redactor } from '../../redact/redactor.js'
import { scopeFacts } from '../../report/common.js'
import { writeReports } from '../../report/write-reports.js'
import { ALERTS_TOKEN_ENV, type ExternalAlerts, suppliedIntakeToken } from '../../run/alert-intake.js'
import { cloudEnvFor } from '../../run/cloud-env.js'
import { createPipelines, type DetectionPipeline, PIPELINES } from '../../run/pipelines/index.js'
import { Recorder } from '../../run/record.js'
import { mergeAttempts, parseRepeat } from '../../run/repeat.js'
import { replayRecording } from '../../run/replay.js'
import type { RunResult } from '../../run/result.js'
import { runScenarios } from '../../run/runner.js'
import { type Selection, type SelectionFlags, selectScenarios } from '../../run/select.js'
import { applyStrictBenign, exitCodeFor, headline, summarize } from '../../run/summary.js'
import { isTelemetryLoss } from '../../run/telemetry-bus.js'
import { parseDuration } from '../../run/verdict.js'
import { loadScenarios, type Scenario } from '../../scenario/load.js'
import { checkRuleReferences } from '../../scenario/references.js'
import { createOutput, type Output } from '../../util/output.js'
import { compareWithBaseline } from './diff.js'

interface RunFlags extends SelectionFlags {
  /** A lab (or auto), or `replay`: no lab, a recording (--from) re-asserted. */
  env: EnvChoice | 'replay'
  from?: string
  rules: string[]
  /** SPL macros (macros.conf files or macros/ directories). */
  macros?: string[]
  lab: string
  reports: string
  record?: string
  keep?: boolean
  kubeconfig?: string
  context?: string
  allowContext: string[]
  iKnowThisIsNotALab?: boolean
  auditLog?: string
  auditPolicy?: string
  alertsListen?: string
  /** Refused: a token in argv is world-readable in /proc/<pid>/cmdline. */
  alertsToken?: string
  alertsTokenFile?: string
  /** false with --no-builtin: only external alerts count. */
  builtin: boolean
  /** `--pipeline <name>[=<arg>]`, in order; none: the built-in engines (plus http with --alerts-listen). */
  pipeline: string[]
  baseline?: string
  strictBenign?: boolean
  stepTimeout?: string
  repeat?: string
}

const collect = (v: string, prev: string[]) => [...prev, v]

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`
}

export { checkRuleReferences }

function providers(f: RunFlags): Promise<Partial<Record<string, LabProvider>>> {
  if (f.env === 'existing') {
    if (!f.kubeconfig || !f.context)
      throw new PurpleError('PURPLE_USAGE', '--env existing needs --kubeconfig and --context', {
        hint: 'and --allow-context <context> to accept it',
      })
    if (!f.auditLog)
      throw new PurpleError('PURPLE_USAGE', '--env existing needs --audit-log <apiserver audit log file>')
    return loadProviders({
      existing: {
        kubeconfig: f.kubeconfig,
        context: f.context,
        allowContexts: f.allowContext,
        audit: { logFile: f.auditLog },
        ...(f.iKnowThisIsNotALab ? { iKnowThisIsNotALab: true } : {}),
        ...(f.auditPolicy ? { policyFile: f.auditPolicy } : {}),
      },
    })
  }
  return loadProviders()
}

/** Flags every way of running shares: where reports go, how they are judged, which steps run. */
interface ReportFlags extends SelectionFlags {
  reports: string
  /** A run to compare with (`--baseline`): a regression makes the exit code 1. */
  baseline?: string
  /** NOISY benign steps fail the run. */
  strictBenign?: boolean
  /** Lost telemetry (unreadable lines, dropped events) or a failing detection pipeline fails the run (exit 2). */
  strict?: boolean
}

async function finish(result: RunResult, redactor: Redactor, f: ReportFlags, o: Output): Promise<number> {
  if (f.strictBenign) {
    applyStrictBenign(result.steps)
    result.summary = summarize(result.steps)
  }
  const written = await writeReports(result, { dir: f.reports, redactor })
  const s = result.summary
  const diff = f.baseline ? await compareWithBaseline(f.baseline, written.dir, o) : undefined
  const lost = f.strict ? result.findings.filter(isTelemetryLoss) : []
  const code = Math.max(exitCodeFor(result.steps), diff?.regressions.length ? 1 : 0, lost.length ? 2 : 0)
  for (const l of lost) o.log(`${o.color.red('✖')} --strict: ${redactor.redact(l.message)}`)
  if (o.json)
    o.out(
      JSON.stringify({
        runId: result.runId,
        summary: s,
        reports: written.files,
        exitCode: code,
        ...(diff ? { diff } : {}),
        ...(result.selection ? { selection: result.selection } : {}),
        ...(result.repeat ? { repeat: result.repeat } : {}),
      }),
    )
  else {
    o.out(
      `${code === 0 ? o.color.green('✔ all expectations met') : lost.length ? o.color.red('✖ telemetry lost') : o.color.red('✖ detection gaps')}: ${headline(s)}`,
    )
    o.out(`reports: ${path.join(f.reports, 'latest', 'report.md')} (run ${result.runId})`)
    for (const fact of scopeFacts(result)) o.out(o.color.dim(`partial run — ${fact}`))
  }
  for (const e of written.errors) o.log(`${o.color.red('✖')} reporter failed: ${e.message} [${e.code}]`)
  return written.errors.length ? 2 : code
}

function checkIntakeFlags(f: RunFlags): void {
  if (f.alertsToken !== undefined)
    throw new PurpleError(
      'PURPLE_USAGE',
      '--alerts-token is gone: a token on the command line is readable by every local user (/proc/<pid>/cmdline)',
      {
        hint: `use --alerts-token-file <file> (mode 0600) or ${ALERTS_TOKEN_ENV}; or let the run generate one`,
      },
    )
  if (f.alertsListen === undefined) {
    if (f.pipeline.some((p) => p.startsWith('http'))) return
    if (f.alertsTokenFile !== undefined || !f.builtin)
      throw new PurpleError(
        'PURPLE_USAGE',
        '--alerts-token-file and --no-builtin need --alerts-listen <port>',
      )
    return
  }
  if (!/^\d{1,5}$/.test(f.alertsListen) || Number(f.alertsListen) > 65535)
    throw new PurpleError(
      'PURPLE_USAGE',
      `--alerts-listen must be a port number 0-65535, got "${f.alertsListen}"`,
    )
}

// The run's detection pipelines: `--pipeline` flags as given, else the built-in engines; `--alerts-listen`
// adds the http intake (it listens for the whole run; a generated token goes to a 0600 file).
function runPipelines(
  f: RunFlags,
  ruleSet: RuleSet,
  runDir: string,
  redactor: Redactor,
  log: (line: string) => void,
): { pipelines: DetectionPipeline[]; alerts?: ExternalAlerts } {
  const specs = f.pipeline.length ? [...f.pipeline] : ['builtin']
  if (f.alertsListen !== undefined) specs.push(`http=${f.alertsListen}`)
  const supplied = specs.some((s) => s.startsWith('http'))
    ? suppliedIntakeToken({
        ...(f.alertsTokenFile !== undefined ? { file: f.alertsTokenFile } : {}),
        env: process.env,
      })
    : undefined
  const pipelines = createPipelines(specs, {
    ruleSet,
    live: true,
    log,
    runDir,
    redactor,
    builtinCounts: f.builtin,
    ...(supplied
      ? {
          alertsToken: supplied,
          alertsTokenSource: f.alertsTokenFile !== undefined ? '--alerts-token-file' : ALERTS_TOKEN_ENV,
        }
      : {}),
  })
  const http = pipelines.find((p) => 'alerts' in p) as { alerts: ExternalAlerts } | undefined
  return { pipelines, ...(http ? { alerts: http.alerts } : {}) }
}

function noteExternalAlerts(result: RunResult, alerts: ExternalAlerts, builtin: boolean): void {
  result.manifest.externalAlerts = `${alerts.received} received${builtin ? '' : '; built-in alerts not counted (--no-builtin)'}`
  const stray = alerts.unattributed()
  if (stray.length)
    result.findings.push({
      kind: 'unattributed-alerts',
      message: `${stray.length} external alert(s) matched no step (their audit event belonged to no step, or no step naming the rule ran at their time): ${[...new Set(stray.map((a) => `${a.rule} [${a.pipeline}]`))].slice(0, 5).join(', ')}`,
    })
}

interface ReplayFlags extends ReportFlags {
  rules: string[]
  macros?: string[]
  pipeline?: string[]
}

// Rules an external pipeline raises need not be loaded locally: name them, do not fail.
function externalRuleWarning(
  pipelines: readonly string[],
  o: Output,
): ((issues: readonly Issue[]) => void) | undefined {
  if (!pipelines.some((p) => !p.startsWith('builtin'))) return undefined
  return (issues) => {
    for (const i of issues)
      o.log(`! ${formatIssue(i)} — not loaded locally; expected from the external pipeline`)
  }
}

// The `replay` lab: no lab at all, a recorded run re-asserted against today's rules.
async function replayRun(recording: string, paths: string[], f: ReplayFlags, o: Output): Promise<number> {
  const all = await loadScenarios(paths)
  const { scenarios, selection } = selectScenarios(all, f)
  const ruleSet = await loadRules(f.rules.length ? f.rules : ['detections'], { macros: f.macros ?? [] })
  checkRuleReferences(scenarios, ruleSet, externalRuleWarning(f.pipeline ?? [], o))
  const pipelines = f.pipeline?.length
    ? createPipelines(f.pipeline, { ruleSet, live: false, log: (l) => o.log(l) })
    : undefined
  const runId = `replay-${newRunId()}`
  const result = await replayRecording(recording, scenarios, ruleSet, runId, pipelines, all)
  if (selection) result.selection = selection
  return await finish(result, new Redactor(), f, o)
}

interface LabRun {
  f: RunFlags
  o: Output
  scenarios: Scenario[]
  ruleSet: RuleSet
  runId: string
  runDir: string
  redactor: Redactor
  log: (line: string) => void
  abort: AbortController
  selection?: Selection
}

// Brings the lab up, attaches the run's services, runs the scenarios and writes the reports.
async function runOnLab(provider: LabProvider, r: LabRun): Promise<number> {
  const { f, o, scenarios, ruleSet, runId, runDir, redactor, log, abort, selection } = r
  const repeat = f.repeat ? parseRepeat(f.repeat) : 1
  const stepTimeoutMs = f.stepTimeout ? parseStepTimeout(f.stepTimeout) : undefined
  const done = o.task(`bringing up the ${provider.name} lab "${f.lab}"`)
  let base: Awaited<ReturnType<LabProvider['up']>>
  try {
    base = await provider.up({ name: f.lab, log })
    done(true, base.context)
  } catch (e) {
    done(false)
    throw e
  }
  assertSafeContext({ kubeconfig: base.kubeconfig, context: base.context, allowContexts: f.allowContext })
  const services = await attachRunServices(base, scenarios, runId, log)
  for (const v of canaryValues(services.canaries)) redactor.add(v)
  try {
    const intake = runPipelines(f, ruleSet, runDir, redactor, log)
    const lab = services.lab
    const recorder = f.record
      ? new Recorder(f.record, redactor, { runId, provider: lab.provider, manifest: lab.manifest })
      : undefined
    const runs: RunResult[] = []
    for (let n = 1; n <= repeat && !abort.signal.aborted; n++) {
      if (repeat > 1) log(`— attempt ${n}/${repeat}`)
      runs.push(
        await runScenarios({
          lab,
          scenarios,
          ruleSet,
          runId,
          canaries: services.canaries,
          redactor,
          log,
          signal: abort.signal,
          runDir,
          venvBin: path.join(venvDir(), 'bin'),
          cloudEnv: cloudEnvFor(services),
          ...(services.docker ? { docker: services.docker } : {}),
          ...(recorder ? { recorder } : {}),
          ...(f.keep ? { keep: true } : {}),
          pipelines: intake.pipelines,
          ...(intake.alerts ? { externalAlerts: intake.alerts } : {}),
          ...(stepTimeoutMs !== undefined ? { stepTimeoutMs } : {}),
        }),
      )
    }
    const result = mergeAttempts(runs)
    if (selection) result.selection = selection
    if (abort.signal.aborted)
      throw new PurpleError('PURPLE_INTERRUPTED', 'run interrupted; lab objects were cleaned up', {
        hint: 'leftovers, if any: purplekind sweep',
      })
    result.manifest.harness = 'purplekind 0.1.0'
    result.manifest.node = process.version
    result.manifest.decoys = Object.keys(lab.decoys).join(', ')
    for (const [k, why] of Object.entries(services.decoys.unavailable))
      result.findings.push({ kind: 'decoy-unavailable', message: `decoy ${k} unavailable: ${why}` })
    if (intake.alerts) noteExternalAlerts(result, intake.alerts, f.builtin)
    const faultCode = await labFaultExit(result, lab, f, redactor, o)
    const code = faultCode ?? (await finish(result, redactor, f, o))
    if (!o.json && lab.provider === 'local' && faultCode === undefined)
      o.log(`lab "${f.lab}" stays up for fast re-runs; stop it with: purplekind lab down --lab ${f.lab}`)
    return code
  } finally {
    await services.stop()
  }
}

/**
 * A lab that failed mid-run: the reports keep the steps done so far (the rest NOT_RUN), the exit code is 2,
 * and the hint names commands that work once the lab answers again (sweep needs the apiserver).
 */
async function labFaultExit(
  result: RunResult,
  lab: Lab,
  f: RunFlags,
  redactor: Redactor,
  o: Output,
): Promise<number | undefined> {
  const fault = result.findings.find((x) => x.kind === 'lab-fault')
  if (!fault) return undefined
  await finish(result, redactor, f, o)
  const arg = (v: string) => (/^[\w./:@=-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`)
  const back =
    lab.provider === 'existing'
      ? 'restore the cluster'
      : `purplekind lab up --env ${arg(lab.provider)} --lab ${arg(f.lab)}`
  const sweep = [
    'purplekind sweep --kubeconfig',
    arg(lab.kubeconfig),
    '--context',
    arg(lab.context),
    ...f.allowContext.flatMap((c) => ['--allow-context', arg(c)]),
    // A lab without Docker has no containers to sweep; other runs' may be in use on the engine.
    ...(lab.capabilities.docker ? [] : ['--no-docker']),
  ].join(' ')
  o.log(`${o.color.red('✖')} ${redactor.redact(fault.message)} [PURPLE_LAB_FAILED]`)
  o.log(`  hint: the reports hold the steps done so far; bring the lab back (${back}), then: ${sweep}`)
  return 2
}

/** --only, --technique, --tag and --shard, shared by run and replay. */
function addSelectionOptions(cmd: Command | undefined): void {
  cmd
    ?.option('--only <glob>', 'run only scenario[/step] ids matching a glob (* ?; repeatable)', collect, [])
    .option(
      '--technique <id>',
      'run only steps exercising an ATT&CK technique, sub-techniques included (repeatable)',
      collect,
      [],
    )
    .option('--tag <tag>', 'run only scenarios with this metadata tag (repeatable)', collect, [])
    .option('--shard <i/n>', 'run the i-th of n deterministic parts of the selected scenarios (CI matrices)')
}

function parseStepTimeout(text: string): number {
  if (!/^\d{1,6}(\.\d{1,3})?(ms|s|m)$/.test(text) || parseDuration(text) <= 0)
    throw new PurpleError(
      'PURPLE_USAGE',
      `--step-timeout must be a duration like 30s, 2m or 500ms, got "${text}"`,
    )
  return parseDuration(text)
}

function checkControlFlags(f: RunFlags): void {
  if (f.stepTimeout) parseStepTimeout(f.stepTimeout)
  if (f.repeat && parseRepeat(f.repeat) > 1 && f.record)
    throw new PurpleError('PURPLE_USAGE', '--record records one run: use it without --repeat')
}

/** A selection with nothing in it (an empty --shard): a run with no steps, written like any other. */
export function emptyRun(runId: string, selection: Selection | undefined): RunResult {
  const now = new Date().toISOString()
  return {
    runId,
    startedAt: now,
    finishedAt: now,
    lab: 'none (nothing selected)',
    provider: 'none',
    scenarios: [],
    steps: [],
    summary: summarize([]),
    manifest: { harness: 'purplekind 0.1.0' },
    findings: [],
    telemetry: {},
    rules: [],
    ...(selection ? { selection } : {}),
  }
}

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('replay scenarios in a lab, collect telemetry, run the detections and write reports')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .option(
      '--env <env>',
      `lab: auto | ${LAB_PROVIDERS.map((p) => p.name).join(' | ')} | replay (with --from)`,
      'auto',
    )
    .option('--from <recording>', 'with --env replay: a directory written by --record')
    .option('--rules <path>', 'rule file or directory (repeatable)', collect, [])
    .option('--macros <path>', 'SPL macros: macros.conf or a macros/ directory (repeatable)', collect, [])
    .option('--lab <name>', 'lab name', 'default')
    .option('--reports <dir>', 'reports directory', 'reports')
    .option('--record <dir>', "save the run's redacted telemetry and traces for `purplekind replay`")
    .option('--keep', 'keep the lab objects the run created (debugging)')
    .option('--kubeconfig <file>', 'kubeconfig (with --env existing)')
    .option('--context <name>', 'context (with --env existing)')
    .option(
      '--allow-context <name>',
      'allow a context that is not a purplekind lab (repeatable)',
      collect,
      [],
    )
    .option('--audit-log <file>', 'apiserver audit log file (with --env existing)')
    .option(
      '--i-know-this-is-not-a-lab',
      'with --env existing: run even on a cloud-managed cluster (EKS/GKE/AKS)',
    )
    .option('--audit-policy <file>', 'apiserver audit policy file, for the preflight (with --env existing)')
    .option(
      '--alerts-listen <port>',
      'accept external alerts (Falco http_output, webhooks) on 127.0.0.1:<port>',
    )
    .option(
      '--alerts-token-file <file>',
      `file (mode 0600) holding the bearer token for --alerts-listen (or set ${ALERTS_TOKEN_ENV}; default: generated, written to a 0600 file)`,
    )
    .addOption(new Option('--alerts-token <token>').hideHelp())
    .option('--no-builtin', 'with --alerts-listen: only external alerts count for verdicts')
    .option(
      '--pipeline <name[=arg]>',
      `detection pipeline (repeatable; default builtin): ${PIPELINES.map((p) => p.name + (p.argument ? `=${p.argument}` : '')).join(' | ')}`,
      collect,
      [],
    )
    .option('--baseline <run>', 'compare with an earlier run (folder or report.json): exit 1 on a regression')
    .option('--strict-benign', 'a NOISY benign step (an unasserted rule fired) fails the run')
    .option(
      '--strict',
      'lost telemetry (unreadable lines, dropped events) or a failing pipeline fails the run (exit 2)',
    )
    .option(
      '--step-timeout <duration>',
      "kill a step's action after this long (a step may set timeout:)",
      '60s',
    )
    .option('--repeat <n>', 'run the selected steps n times and report a detection rate per step')
    .action(async (paths: string[], f: RunFlags) => {
      const o = createOutput(program.opts())
      if (f.env === 'replay') {
        if (!f.from)
          throw new PurpleError('PURPLE_USAGE', '--env replay needs --from <recording directory>', {
            hint: 'record one with: purplekind run --record <dir>',
          })
        process.exitCode = await replayRun(f.from, paths, f, o)
        return
      }
      checkIntakeFlags(f)
      checkControlFlags(f)
      const { scenarios, selection } = selectScenarios(await loadScenarios(paths), f)
      if (!scenarios.length) {
        process.exitCode = await finish(
          emptyRun(newRunId(), selection),
          new Redactor(),
          f,
          createOutput(program.opts()),
        )
        return
      }
      const ruleSet = await loadRules(f.rules.length ? f.rules : ['detections'], { macros: f.macros ?? [] })
      checkRuleReferences(
        scenarios,
        ruleSet,
        externalRuleWarning(f.alertsListen === undefined ? f.pipeline : [...f.pipeline, 'http'], o),
      )
      const runId = newRunId()
      const runDir = path.join(labHome(), 'runs', runId)
      const redactor = new Redactor()
      const log = (l: string) => o.log(redactor.redact(l))
      const choice = await chooseProvider(f.env, await providers(f))
      log(`lab: ${choice.provider.name} — ${choice.reason}`)
      const abort = new AbortController()
      const forceQuit = () => process.exit(130)
      const onSignal = () => {
        if (abort.signal.aborted) return
        log('interrupted: cleaning up (Ctrl-C again to force quit)')
        abort.abort()
        process.once('SIGINT', forceQuit)
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      try {
        process.exitCode = await runOnLab(choice.provider, {
          f,
          o,
          scenarios,
          ruleSet,
          runId,
          runDir,
          redactor,
          log,
          abort,
          ...(selection ? { selection } : {}),
        })
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        process.off('SIGINT', forceQuit)
      }
    })

  program
    .command('replay')
    .description('re-assert scenarios against a recorded run (no lab)')
    .argument('<recording>', 'directory written by `purplekind run --record`')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .option('--rules <path>', 'rule file or directory (repeatable)', collect, [])
    .option('--macros <path>', 'SPL macros: macros.conf or a macros/ directory (repeatable)', collect, [])
    .option('--reports <dir>', 'reports directory', 'reports')
    .option(
      '--pipeline <name[=arg]>',
      `detection pipeline (repeatable; default builtin): ${PIPELINES.map((p) => p.name + (p.argument ? `=${p.argument}` : '')).join(' | ')}`,
      collect,
      [],
    )
    .option('--baseline <run>', 'compare with an earlier run (folder or report.json): exit 1 on a regression')
    .option('--strict-benign', 'a NOISY benign step (an unasserted rule fired) fails the run')
    .option(
      '--strict',
      'lost telemetry (unreadable lines, dropped events) or a failing pipeline fails the run (exit 2)',
    )
    .action(async (recording: string, paths: string[], f: ReplayFlags) => {
      process.exitCode = await replayRun(recording, paths, f, createOutput(program.opts()))
    })
  for (const name of ['run', 'replay']) addSelectionOptions(program.commands.find((c) => c.name() === name))
}
