// `purplekind run` and `purplekind replay`: flags → a RunSpec (run-flags.ts) → runSpec (src/run/session.ts)
// → publishRun (reports, baseline, exit code) → what the user reads.
import path from 'node:path'
import { type Command, Option } from 'commander'
import { LAB_PROVIDERS } from '../../lab/registry.js'
import { scopeFacts } from '../../report/common.js'
import { formatDiff } from '../../report/diff.js'
import { type Published, publishRun } from '../../report/publish.js'
import { ALERTS_TOKEN_ENV } from '../../run/alert-intake.js'
import { PIPELINES } from '../../run/pipelines/index.js'
import { type RunHooks, type RunOutcome, runSpec } from '../../run/session.js'
import type { RunSpec } from '../../run/spec.js'
import { headline } from '../../run/summary.js'
import { createOutput, type Output } from '../../util/output.js'
import { type ReplayFlags, type RunFlags, replaySpecFromFlags, runSpecFromFlags } from './run-flags.js'

const collect = (v: string, prev: string[]) => [...prev, v]

/** Runs the spec, writes its reports and prints the outcome; returns the exit code. */
async function execute(spec: RunSpec, o: Output): Promise<number> {
  const outcome = await runSpec(spec, hooks(o))
  const published = await publishRun(outcome.result, spec.reports, outcome.redactor)
  print(outcome, published, spec, o)
  if (outcome.fault) {
    o.log(`${o.color.red('✖')} ${outcome.fault.message} [PURPLE_LAB_FAILED]`)
    o.log(`  hint: ${outcome.fault.hint}`)
    return 2
  }
  if (!o.json && outcome.lab?.provider === 'local')
    o.log(
      `lab "${outcome.lab.name}" stays up for fast re-runs; stop it with: purplekind lab down --lab ${outcome.lab.name}`,
    )
  return published.exitCode
}

function print(outcome: RunOutcome, p: Published, spec: RunSpec, o: Output): void {
  const { result, redactor } = outcome
  if (p.diff && !o.json) for (const line of formatDiff(p.diff)) o.log(line)
  for (const l of p.lost) o.log(`${o.color.red('✖')} --strict: ${redactor.redact(l.message)}`)
  if (o.json)
    o.out(
      JSON.stringify({
        runId: result.runId,
        summary: result.summary,
        reports: p.written.files,
        exitCode: p.code,
        ...(p.diff ? { diff: p.diff } : {}),
        ...(result.selection ? { selection: result.selection } : {}),
        ...(result.repeat ? { repeat: result.repeat } : {}),
      }),
    )
  else {
    const verdict =
      p.code === 0
        ? o.color.green('✔ all expectations met')
        : p.lost.length
          ? o.color.red('✖ telemetry lost')
          : o.color.red('✖ detection gaps')
    o.out(`${verdict}: ${headline(result.summary)}`)
    o.out(`reports: ${path.join(spec.reports.dir, 'latest', 'report.md')} (run ${result.runId})`)
    for (const fact of scopeFacts(result)) o.out(o.color.dim(`partial run — ${fact}`))
  }
  for (const e of p.written.errors) o.log(`${o.color.red('✖')} reporter failed: ${e.message} [${e.code}]`)
}

// Progress goes to stderr; Ctrl-C during a lab run aborts it (cleanup runs), a second one quits at once.
function hooks(o: Output): RunHooks {
  return {
    log: (line) => o.log(line),
    task: (title) => o.task(title),
    async interruptible(work) {
      const abort = new AbortController()
      const forceQuit = () => process.exit(130)
      const onSignal = () => {
        if (abort.signal.aborted) return
        o.log('interrupted: cleaning up (Ctrl-C again to force quit)')
        abort.abort()
        process.once('SIGINT', forceQuit)
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      try {
        return await work(abort.signal)
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        process.off('SIGINT', forceQuit)
      }
    },
  }
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
      const spec = runSpecFromFlags(paths, f)
      process.exitCode = await execute(spec, createOutput(program.opts()))
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
      process.exitCode = await execute(replaySpecFromFlags(recording, paths, f), createOutput(program.opts()))
    })
  for (const name of ['run', 'replay']) addSelectionOptions(program.commands.find((c) => c.name() === name))
}
