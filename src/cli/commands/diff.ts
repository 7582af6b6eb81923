import type { Command } from 'commander'
import { diffReports, formatDiff, readReport } from '../../report/diff.js'
import { createOutput } from '../../util/output.js'

// `purplekind diff <run-a> <run-b>`: regressions and improvements per step and rule; exit 1 on a regression.
export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two runs (report folders or report.json files): exit 1 when the second regressed')
    .argument('<base>', 'the earlier run, e.g. reports/<run-id> from last night')
    .argument('<head>', 'the run to check, e.g. reports/latest')
    .action(async (base: string, head: string) => {
      const o = createOutput(program.opts())
      const d = diffReports(await readReport(base), await readReport(head))
      if (o.json) o.out(JSON.stringify(d))
      else for (const line of formatDiff(d)) o.out(line)
      process.exitCode = d.regressions.length ? 1 : 0
    })
}
