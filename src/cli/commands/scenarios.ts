import type { Command } from 'commander'
import { describeSelection, type SelectionFlags, selectScenarios } from '../../run/select.js'
import { loadScenarios } from '../../scenario/load.js'
import { validateInputs } from '../../scenario/validate.js'
import { createOutput } from '../../util/output.js'

const collect = (v: string, prev: string[]) => [...prev, v]

// `purplekind validate` and `purplekind list`: schema + reference checks only, no lab.
export function registerScenarioCommands(program: Command): void {
  program
    .command('validate')
    .description(
      'validate scenarios and detection rules (each file is recognised as one or the other); every problem is reported as file:field.path: message [CODE]',
    )
    .argument('[paths...]', 'scenario and rule files or directories', ['scenarios'])
    .option(
      '--rules <path>',
      'rules the scenarios reference (repeatable; default: the rules among the paths, else ./detections)',
      collect,
      [],
    )
    .option(
      '--recordings <dir...>',
      'recorded runs the dead-rule check learns logged fields and verbs from',
      [],
    )
    .action(async (paths: string[], f: { rules: string[]; recordings: string[] }) => {
      const o = createOutput(program.opts())
      const report = await validateInputs(paths, f)
      const { scenarios, steps, rules, warnings } = report
      if (o.json) o.out(JSON.stringify({ valid: true, scenarios, steps, rules, warnings }))
      else {
        for (const w of warnings)
          o.log(
            `${o.color.yellow('!')} ${w.file}: rule "${w.title}" (${w.rule}) can never fire: ${w.reasons.join('; ')} [DEAD]`,
          )
        o.out(
          `${o.color.green('✔')} ${scenarios} scenario(s), ${steps} step(s)${rules ? `, ${rules} rule(s)` : ''} valid${warnings.length ? `; ${warnings.length} warning(s)` : ''}`,
        )
      }
    })
  program
    .command('list')
    .description('list scenarios and their steps (with selection flags: what run would run)')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .option('--only <glob>', 'scenario[/step] ids matching a glob (repeatable)', collect, [])
    .option('--technique <id>', 'steps exercising an ATT&CK technique (repeatable)', collect, [])
    .option('--tag <tag>', 'scenarios with this metadata tag (repeatable)', collect, [])
    .option('--shard <i/n>', 'the i-th of n deterministic parts of the selected scenarios')
    .action(async (paths: string[], f: SelectionFlags) => {
      const o = createOutput(program.opts())
      const { scenarios, selection } = selectScenarios(await loadScenarios(paths), f)
      if (selection && !o.json) o.log(o.color.dim(`selection: ${describeSelection(selection)}`))
      if (o.json) {
        const rows = scenarios.map((s) => ({
          id: s.metadata.id,
          title: s.metadata.title,
          techniques: s.metadata.techniques,
          tags: s.metadata.tags,
          file: s.file,
          steps: s.steps.map((st) => ({
            id: st.id,
            kind: st.kind,
            run: st.run.join(' '),
            techniques: st.techniques ?? s.metadata.techniques,
          })),
        }))
        o.out(JSON.stringify(rows, null, 2))
        return
      }
      for (const s of scenarios) {
        o.out(
          `${o.color.bold(s.metadata.id)}  ${s.metadata.title}  [${s.metadata.techniques.join(', ')}]${s.metadata.tags.length ? `  tags: ${s.metadata.tags.join(', ')}` : ''}  ${o.color.dim(s.file)}`,
        )
        for (const st of s.steps) {
          const tag = st.kind === 'attack' ? o.color.red('attack') : o.color.green('benign')
          o.out(`  ${tag} ${st.id}: ${st.run.join(' ')}`)
        }
      }
    })
}
