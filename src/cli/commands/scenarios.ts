import type { Command } from 'commander'
import { loadScenarios } from '../../scenario/load.js'
import { createOutput } from '../../util/output.js'

// `purplekind validate` and `purplekind list`: schema + reference checks only, no lab.
export function registerScenarioCommands(program: Command): void {
  program
    .command('validate')
    .description('validate scenario files (every problem is reported as file:field.path: message [CODE])')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .action(async (paths: string[]) => {
      const o = createOutput(program.opts())
      const scenarios = await loadScenarios(paths)
      const steps = scenarios.reduce((n, s) => n + s.steps.length, 0)
      if (o.json) o.out(JSON.stringify({ valid: true, scenarios: scenarios.length, steps }))
      else o.out(`${o.color.green('✔')} ${scenarios.length} scenario(s), ${steps} step(s) valid`)
    })
  program
    .command('list')
    .description('list scenarios and their steps')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .action(async (paths: string[]) => {
      const o = createOutput(program.opts())
      const scenarios = await loadScenarios(paths)
      if (o.json) {
        const rows = scenarios.map((s) => ({
          id: s.metadata.id,
          title: s.metadata.title,
          techniques: s.metadata.techniques,
          file: s.file,
          steps: s.steps.map((st) => ({ id: st.id, kind: st.kind, run: st.run.join(' ') })),
        }))
        o.out(JSON.stringify(rows, null, 2))
        return
      }
      for (const s of scenarios) {
        o.out(
          `${o.color.bold(s.metadata.id)}  ${s.metadata.title}  [${s.metadata.techniques.join(', ')}]  ${o.color.dim(s.file)}`,
        )
        for (const st of s.steps) {
          const tag = st.kind === 'attack' ? o.color.red('attack') : o.color.green('benign')
          o.out(`  ${tag} ${st.id}: ${st.run.join(' ')}`)
        }
      }
    })
}
