import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { loadRules } from '../../../src/detection/load-rules.js'
import type { Issue } from '../../../src/errors.js'
import { loadScenarios } from '../../../src/scenario/load.js'
import { checkRuleReferences } from '../../../src/scenario/references.js'

// Spawns the built CLI (npm test builds first); every case fails before any lab is touched.
const cli = (...args: string[]) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, env: { NO_COLOR: '1' } })
const SCENARIO = 'test/fixtures/scenarios/intake'

describe('run: alert intake flags and external rule ids', () => {
  it('refuses a token on the command line (world-readable in /proc/<pid>/cmdline), naming the safe ways', async () => {
    const r = await cli('run', '--alerts-listen', '0', '--alerts-token', 'x'.repeat(20), SCENARIO)
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/--alerts-token is gone: .*\/proc\/<pid>\/cmdline.*\[PURPLE_USAGE\]/)
    expect(r.stderr).toContain('--alerts-token-file <file> (mode 0600) or PURPLEKIND_ALERTS_TOKEN')
  })

  it('refuses --no-builtin and --alerts-token-file without --alerts-listen, and a non-numeric port', async () => {
    for (const args of [['--no-builtin'], ['--alerts-token-file', '/dev/null'], ['--alerts-listen', 'abc']]) {
      const r = await cli('run', ...args, SCENARIO)
      expect(r.exitCode, args.join(' ')).not.toBe(0)
      expect(r.stderr).toMatch(/--alerts-listen.*\[PURPLE_USAGE\]/)
    }
  })

  it('without an intake, an expected rule that is not loaded is an error naming file and field', async () => {
    const r = await cli('run', SCENARIO)
    expect(r.exitCode).not.toBe(0)
    expect(r.stderr).toContain(
      'external-alerts.yaml:steps[0].expect.alerts[0]: unknown rule "external-secrets-list"',
    )
  })

  it('with a warn callback (intake active), unknown ids are reported, not thrown', async () => {
    const scenarios = await loadScenarios([SCENARIO])
    const rules = await loadRules(['detections'])
    const warned: Issue[] = []
    checkRuleReferences(scenarios, rules, (issues) => warned.push(...issues))
    expect(warned.map((i) => i.path)).toEqual(['steps[0].expect.alerts[0]', 'steps[1].expect.alerts[0]'])
    expect(() => checkRuleReferences(scenarios, rules)).toThrow(/unknown rule "external-secret-read"/)
  })
})
