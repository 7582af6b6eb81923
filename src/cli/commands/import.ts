// `purplekind import`: select rules from a checkout of SigmaHQ, Splunk ESCU or Falco content, unchanged.
import { type Command, Option } from 'commander'
import {
  type ContentKind,
  type ImportFilter,
  selectContent,
  writeSelection,
} from '../../detection/import/index.js'
import { PurpleError } from '../../errors.js'
import { SOURCES, type SourceName } from '../../telemetry/event.js'
import { createOutput } from '../../util/output.js'

interface ImportOptions {
  technique?: string
  source?: SourceName
  kind?: ContentKind
  out?: string
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'select rules for a technique or data source from a SigmaHQ, ESCU or Falco checkout (converts nothing)',
    )
    .argument(
      '<path>',
      'SigmaHQ checkout (or its rules/), ESCU checkout (detections/ + macros/), or a Falco rules file/dir',
    )
    .option(
      '--technique <id>',
      'ATT&CK technique, e.g. T1552.007 (a technique also selects its sub-techniques)',
    )
    .addOption(new Option('--source <source>', 'telemetry source the rules read').choices([...SOURCES]))
    .addOption(
      new Option('--kind <kind>', 'content kind (default: detected)').choices(['sigma', 'escu', 'falco']),
    )
    .option('--out <dir>', 'copy the selected files (unchanged) here, ready for --rules <dir>/<kind>')
    .action(async (path: string, opts: ImportOptions) => {
      const o = createOutput(program.opts())
      const filter: ImportFilter = {
        ...(opts.technique ? { technique: opts.technique } : {}),
        ...(opts.source ? { source: opts.source } : {}),
      }
      const sel = await selectContent(path, filter, opts.kind)
      if (!sel.rules.length) {
        throw new PurpleError(
          'PURPLE_INPUT_NOT_FOUND',
          `no ${sel.kind} rules in ${path} match the selection`,
          {
            hint: 'check --technique/--source, or --kind if the checkout was detected wrongly',
          },
        )
      }
      const written = opts.out ? await writeSelection(sel, opts.out) : []
      if (o.json) {
        o.out(
          JSON.stringify({
            kind: sel.kind,
            rules: sel.rules,
            files: sel.files,
            skipped: sel.skipped,
            written,
          }),
        )
        return
      }
      for (const r of sel.rules) o.out(`${r.title}  (${r.file})`)
      for (const s of sel.skipped) o.log(`skipped ${s.file}: ${s.reason}`)
      o.log(
        `${sel.rules.length} ${sel.kind} rule(s) selected from ${sel.files.length} file(s)` +
          (opts.out ? `; copied unchanged to ${opts.out}/${sel.kind}` : '; pass --out <dir> to copy them'),
      )
      if (sel.kind === 'escu')
        o.log(
          'note: ESCU searches run as written; pass the copied macros/ with --macros, and a macros.conf that points `kube_audit` at sourcetype="kubernetes:api"',
        )
    })
}
