import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runLintRules } from '../../../../src/cli/commands/lint-rules.js'

const RULES = join(import.meta.dirname, 'rules')
const RECORDING = join(import.meta.dirname, '../../../fixtures/recordings/t1552.007-local')

describe('purplekind lint-rules', () => {
  it('prints each DEAD rule with its reasons and exits 1', async () => {
    const lines: string[] = []
    const { exitCode } = await runLintRules(
      [join(RULES, 'exec_into_pod_create.yml')],
      { recordings: [RECORDING] },
      {
        json: false,
        out: (l) => lines.push(l),
      },
    )
    expect(exitCode).toBe(1)
    expect(lines).toEqual([
      `DEAD  Exec Into Pod Via Create Verb  (sigma, ${join(RULES, 'exec_into_pod_create.yml')})`,
      '      no recorded event has verb=create with objectRef.subresource=exec; observed verbs for exec: get',
      `1 rule(s) checked, 1 can never fire; recorded evidence: ${RECORDING}`,
    ])
  })

  it('exits 0 and says what evidence it used when every rule can fire; --json is one object', async () => {
    const lines: string[] = []
    const { exitCode } = await runLintRules(
      [join(RULES, 'exec_any_verb.yml')],
      { recordings: [] },
      {
        json: true,
        out: (l) => lines.push(l),
      },
    )
    expect(exitCode).toBe(0)
    expect(JSON.parse(lines[0]!)).toEqual({ checked: 1, findings: [], recordings: [] })
  })
})
