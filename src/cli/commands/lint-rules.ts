// `purplekind lint-rules`: which rules can never fire on the lab's telemetry, and why.
import type { Command } from 'commander'
import { buildDomain, type LintReport, lintRules } from '../../detection/lint/index.js'
import { createOutput } from '../../util/output.js'

export interface LintRulesOptions {
  /** Recorded runs (directories with telemetry/*.jsonl) whose logged fields and verbs are the evidence. */
  recordings: string[]
}

/** Lints the rules and prints the findings; exit code 1 when a rule is DEAD, else 0. */
export async function runLintRules(
  paths: readonly string[],
  opts: LintRulesOptions,
  print: { json: boolean; out(line: string): void },
): Promise<{ exitCode: number; report: LintReport }> {
  const report = await lintRules(paths, await buildDomain(opts.recordings))
  if (print.json) print.out(JSON.stringify({ ...report, recordings: opts.recordings }))
  else for (const line of lintLines(report, opts.recordings)) print.out(line)
  return { exitCode: report.findings.some((f) => f.status === 'DEAD') ? 1 : 0, report }
}

export function lintLines(report: LintReport, recordings: readonly string[]): string[] {
  const lines = report.findings.flatMap((f) => [
    `${f.status}  ${f.title}  (${f.language}, ${f.file})`,
    ...f.reasons.map((r) => `      ${r}`),
  ])
  const dead = report.findings.filter((f) => f.status === 'DEAD').length
  const evidence = recordings.length
    ? `recorded evidence: ${recordings.join(', ')}`
    : 'no --recordings given: only the telemetry schemas were used (verbs and stages per action are not checked)'
  return [...lines, `${report.checked} rule(s) checked, ${dead} can never fire; ${evidence}`]
}

export function registerLintRules(program: Command): void {
  program
    .command('lint-rules')
    .description('report rules (Sigma, SPL, Falco) that can never fire on the lab telemetry, with the reason')
    .argument('<paths...>', 'rule files or directories')
    .option('--recordings <dir...>', 'recorded runs to learn logged fields, verbs and stages from', [])
    .action(async (paths: string[], opts: LintRulesOptions) => {
      const o = createOutput(program.opts())
      const { exitCode } = await runLintRules(paths, opts, { json: o.json, out: o.out })
      process.exitCode = exitCode
    })
}
