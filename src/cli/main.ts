#!/usr/bin/env node
import { Command, CommanderError } from 'commander'
import { PurpleError, ValidationError } from '../errors.js'
import { createOutput } from '../util/output.js'
import { registerEvaluate } from './commands/evaluate.js'
import { registerExerciseCommands } from './commands/exercise.js'
import { registerLabCommands } from './commands/lab.js'
import { registerRunCommands } from './commands/run.js'
import { registerScenarioCommands } from './commands/scenarios.js'

// Exit codes: 0 all expectations met, 1 detection gap, 2 harness or input error.
export const EXIT = { ok: 0, gap: 1, error: 2 } as const

export function buildProgram(): Command {
  const program = new Command('purplekind')
    .description(
      'Purple-team harness: replay T1552.007 in a Kubernetes lab and prove what your detections catch',
    )
    .option('--json', 'machine-readable output on stdout')
    .option('--verbose', 'show stack traces and debug detail')
    .option('--no-color', 'disable colour')
    .exitOverride()
    .showHelpAfterError()
  registerRunCommands(program)
  registerEvaluate(program)
  registerScenarioCommands(program)
  registerLabCommands(program)
  registerExerciseCommands(program)
  return program
}

// The only place that formats errors and decides the exit code for them.
export function reportError(err: unknown, verbose: boolean): number {
  const o = createOutput({ verbose })
  if (err instanceof CommanderError) {
    return err.exitCode === 0 ? EXIT.ok : EXIT.error
  }
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

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv as string[])
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (err) {
    return reportError(err, argv.includes('--verbose'))
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/purplekind')) {
  // `purplekind list | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  })
  process.exitCode = await main(process.argv)
}
