#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { PurpleError, ValidationError } from '../errors.js'
import { createOutput } from '../util/output.js'

// Command modules in help order, imported only when needed: `evaluate` alone does not pay for the lab,
// Kubernetes and Docker modules (measured: ~1 s CPU and ~90 MB RSS of start-up).
type Register = (program: Command) => void
const COMMANDS: readonly (readonly [string, () => Promise<Register>])[] = [
  ['run', async () => (await import('./commands/run.js')).registerRunCommands],
  ['evaluate', async () => (await import('./commands/evaluate.js')).registerEvaluate],
  ['scenarios', async () => (await import('./commands/scenarios.js')).registerScenarioCommands],
  ['diff', async () => (await import('./commands/diff.js')).registerDiff],
  ['merge-reports', async () => (await import('./commands/merge-reports.js')).registerMergeReports],
  ['lab', async () => (await import('./commands/lab.js')).registerLabCommands],
  ['lint-rules', async () => (await import('./commands/lint-rules.js')).registerLintRules],
  ['import', async () => (await import('./commands/import.js')).registerImport],
  ['exercise', async () => (await import('./commands/exercise.js')).registerExerciseCommands],
]
/** Commands served by one module alone; anything else (help, other commands) loads them all. */
const STANDALONE = new Set(['evaluate'])

// Exit codes: 0 all expectations met, 1 detection gap, 2 harness or input error.
export const EXIT = { ok: 0, gap: 1, error: 2 } as const

/** The installed package's version (package.json sits two levels above dist/cli/). */
export function harnessVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

export async function buildProgram(
  opts: { json?: boolean } = {},
  argv: readonly string[] = [],
): Promise<Command> {
  const program = new Command('purplekind')
    .version(harnessVersion(), '-V, --version', 'print the purplekind version')
    .description(
      'Purple-team harness: replay T1552.007 in a Kubernetes lab and prove what your detections catch',
    )
    .option('--json', 'machine-readable output on stdout')
    .option('--verbose', 'show stack traces and debug detail')
    .option('--no-color', 'disable colour')
    .exitOverride()
  // With --json, commander's own usage errors are printed by reportError, as JSON.
  if (opts.json) program.configureOutput({ writeErr: () => {} })
  else program.showHelpAfterError()
  const wanted = argv.slice(2).find((a) => !a.startsWith('-'))
  const only = wanted !== undefined && STANDALONE.has(wanted) ? wanted : undefined
  for (const [name, load] of COMMANDS) if (only === undefined || name === only) (await load())(program)
  return program
}

// The only place that formats errors and decides the exit code for them.
export function reportError(err: unknown, verbose: boolean, json = false): number {
  const o = createOutput({ verbose })
  if (err instanceof CommanderError && err.exitCode === 0) return EXIT.ok // --help, --version
  if (json) {
    o.out(JSON.stringify({ error: errorJson(err) }))
    return EXIT.error
  }
  if (err instanceof CommanderError) return EXIT.error
  if (err instanceof ValidationError) {
    for (const i of err.issues) o.log(`${o.color.red('✖')} ${i.file}:${i.path}: ${i.message} [${i.code}]`)
    o.log(o.color.dim(`${err.issues.length} problem(s)`))
  } else if (err instanceof PurpleError) {
    o.log(`${o.color.red('✖')} ${err.message} [${err.code}]`)
    if (err.hint) o.log(o.color.dim(`hint: ${err.hint}`))
  } else {
    const e = err instanceof Error ? err : new Error(String(err))
    o.log(`${o.color.red('✖')} internal error: ${e.message} [PURPLE_INTERNAL]`)
    o.log(
      o.color.dim(`this is a bug, please report it with: purplekind --verbose …, node ${process.version}`),
    )
  }
  if (verbose && err instanceof Error && err.stack) o.log(o.color.dim(err.stack))
  return EXIT.error
}

/** An error as `--json` prints it: a stable code, the message, a hint and any per-file issues. */
function errorJson(err: unknown): Record<string, unknown> {
  if (err instanceof ValidationError)
    return { code: err.code, message: `${err.issues.length} problem(s)`, issues: err.issues }
  if (err instanceof PurpleError)
    return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }
  if (err instanceof CommanderError)
    return { code: 'PURPLE_USAGE', message: err.message.replace(/^error: /, '') }
  return { code: 'PURPLE_INTERNAL', message: err instanceof Error ? err.message : String(err) }
}

export async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json')
  const program = await buildProgram({ json }, argv)
  try {
    await program.parseAsync(argv as string[])
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (err) {
    return reportError(err, argv.includes('--verbose'), json)
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/purplekind')) {
  // `purplekind list | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  })
  process.exitCode = await main(process.argv)
}
