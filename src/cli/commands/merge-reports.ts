import path from 'node:path'
import type { Command } from 'commander'
import { Redactor } from '../../redact/redactor.js'
import { mergeReports, readShardReports } from '../../report/merge.js'
import { writeReports } from '../../report/write-reports.js'
import { newRunId } from '../../run/spec.js'
import { exitCodeFor, headline } from '../../run/summary.js'
import { createOutput } from '../../util/output.js'

// `purplekind merge-reports <dirs…>`: shards of a suite (`--shard i/n`) joined into one run's four outputs.
export function registerMergeReports(program: Command): void {
  program
    .command('merge-reports')
    .description("join shards' report.json files (run --shard i/n) into one run's four reports")
    .argument('<reports...>', 'run folders, report.json files, or reports directories (their latest/)')
    .option('--reports <dir>', 'where to write the merged run', 'reports')
    .action(async (wheres: string[], f: { reports: string }) => {
      const o = createOutput(program.opts())
      const result = mergeReports(await readShardReports(wheres), `merged-${newRunId()}`)
      const written = await writeReports(result, { dir: f.reports, redactor: new Redactor() })
      const code = written.errors.length ? 2 : exitCodeFor(result.steps)
      if (o.json)
        o.out(
          JSON.stringify({
            runId: result.runId,
            summary: result.summary,
            reports: written.files,
            exitCode: code,
          }),
        )
      else {
        o.out(
          `${code === 0 ? o.color.green('✔ all expectations met') : o.color.red('✖ detection gaps')}: ${headline(result.summary)}`,
        )
        o.out(
          `reports: ${path.join(f.reports, 'latest', 'report.md')} (merged ${wheres.length} report(s) as ${result.runId})`,
        )
      }
      for (const e of written.errors) o.log(`${o.color.red('✖')} reporter failed: ${e.message} [${e.code}]`)
      process.exitCode = code
    })
}
