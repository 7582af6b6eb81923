import { readdir } from 'node:fs/promises'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../src/errors.js'
import { classifyInputs, classifyYaml } from '../../../src/scenario/classify.js'
import { validateInputs } from '../../../src/scenario/validate.js'
import { editDistance, suggest } from '../../../src/util/suggest.js'

const cli = (...args: string[]) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, env: { NO_COLOR: '1' } })

describe('validate: scenarios and rules together', () => {
  it('tells the shipped scenarios from the shipped rules (Sigma, SPL) and the lint fixtures (Falco)', async () => {
    const c = await classifyInputs(['scenarios', 'detections', 'test/unit/detection/lint/rules'])
    expect(c.scenarios).toHaveLength(7)
    expect(c.scenarios.every((f) => f.startsWith('scenarios/'))).toBe(true)
    expect(c.rules).toContain('detections/seed/analytic-a.spl')
    expect(c.rules).toContain('detections/sigma/k8s-exec-read-sa-token.yml')
    expect(c.rules).toContain('test/unit/detection/lint/rules/falco_exec.yaml')
    expect(c.rules.some((f) => f.startsWith('scenarios/'))).toBe(false)
  })

  it.each([
    ['apiVersion: purplekind.io/v1alpha1\nkind: Scenario\n', 'scenario'],
    ['title: x\nlogsource:\n  product: kubernetes\ndetection:\n  sel: {}\n', 'rule'],
    ['- rule: Exec\n  condition: ka\n', 'rule'],
    ['- macro: m\n  condition: x\n', 'rule'],
    // A scenario that names its kind and also has a `detection:`-looking key is still a scenario.
    ['kind: Scenario\ndetection: oops\n', 'scenario'],
    // Neither: treated as a scenario, so its author gets the scenario loader's field errors.
    ['metadata:\n  id: x\n', 'scenario'],
    ['  detection: nested, not top level\n', 'scenario'],
  ])('classifies %j as a %s', (text, kind) => {
    expect(classifyYaml(text)).toBe(kind)
  })

  it('validate scenarios detections: every file valid, rules counted, no bogus scenario errors', async () => {
    // One rule per file under detections/ (Sigma .yml, SPL .spl), however many ship.
    const files = (await readdir('detections', { recursive: true })).filter((f) => /\.(yml|spl)$/.test(f))
    expect(files.length).toBeGreaterThanOrEqual(13)
    const r = await validateInputs(['scenarios', 'detections'])
    expect(r).toMatchObject({ scenarios: 7, steps: 24, rules: files.length, warnings: [] })
    const only = await validateInputs(['detections'])
    expect(only).toMatchObject({ scenarios: 0, rules: files.length })
  })

  it('a misspelled rule id fails validate, with "did you mean"', async () => {
    const err = await validateInputs(['test/fixtures/scenarios/misspelled', 'detections']).catch((e) => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).issues).toEqual([
      {
        file: 'test/fixtures/scenarios/misspelled/typo.yaml',
        path: 'steps[0].expect.alerts[0]',
        message: 'unknown rule "k8s-exec-read-sa-tokn" (did you mean k8s-exec-read-sa-token?)',
        code: 'PURPLE_SCENARIO_BAD_REFERENCE',
      },
    ])
    // Without rules among the paths, ./detections is what the references are checked against.
    await expect(validateInputs(['test/fixtures/scenarios/misspelled'])).rejects.toThrow(/did you mean/)
  })

  it('rules that can never fire are warnings (lint-rules DEAD), not errors', async () => {
    const r = await validateInputs(['test/unit/detection/lint/rules'])
    expect(r.warnings.map((w) => w.title).sort()).toEqual([
      'Pod With HostPath Mount',
      'Secret Enumeration Allowed',
    ])
    const cliRun = await cli('validate', 'test/unit/detection/lint/rules')
    expect(cliRun.exitCode).toBe(0)
    expect(cliRun.stderr).toContain('rule "Pod With HostPath Mount"')
    expect(cliRun.stderr).toContain('[DEAD]')
    expect(cliRun.stdout).toContain('0 step(s), 9 rule(s) valid; 2 warning(s)')
  })

  it('a broken rule and a broken scenario are reported together, each by its own loader', async () => {
    const r = await cli('validate', 'test/fixtures/scenarios/invalid-many.yaml', 'test/fixtures/engine/rules')
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('invalid-many.yaml')
    expect(r.stderr).not.toContain('PURPLE_INTERNAL')
  })
})

describe('suggest', () => {
  it('finds near ids by edit distance and containment, nearest first', () => {
    const known = ['k8s-exec-read-sa-token', 'k8s-secret-read-by-human', 'analytic-a', 'analytic-b']
    expect(suggest('k8s-exec-read-sa-tokn', known)).toEqual(['k8s-exec-read-sa-token'])
    expect(suggest('analytic-c', known)).toEqual(['analytic-a', 'analytic-b'])
    expect(suggest('secret-read-by-human', known)).toEqual(['k8s-secret-read-by-human'])
    expect(suggest('zzz', known)).toEqual([])
  })

  it('is bounded on long hostile ids', () => {
    expect(editDistance('a'.repeat(5000), 'b'.repeat(5000), 3)).toBe(4)
    const started = performance.now()
    suggest(
      'x'.repeat(100_000),
      Array.from({ length: 1000 }, (_, i) => `rule-${i}`.repeat(20)),
    )
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})
