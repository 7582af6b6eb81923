import { describe, expect, it } from 'vitest'
import { attemptsText, mergeAttempts, parseRepeat } from '../../../src/run/repeat.js'
import type { RunResult, StepResult, Verdict } from '../../../src/run/result.js'
import { summarize } from '../../../src/run/summary.js'

function stepResult(step: string, verdict: Verdict, kind: 'attack' | 'benign' = 'attack'): StepResult {
  const passed = ['DETECTED', 'PASSED_BENIGN', 'NOISY', 'SKIPPED', 'BLOCKED'].includes(verdict)
  return {
    scenario: 's',
    step,
    title: step,
    kind,
    actor: 'mallory',
    command: 'kubectl get secrets',
    verdict,
    passed,
    rules: verdict === 'DETECTED' ? ['r1'] : [],
    expectedRules: ['r1'],
    correlation: 'audit-id',
    evidence: [],
    alerts: [],
    canariesRetrieved: [],
    startedAt: '2026-11-30T00:00:00.000Z',
    techniques: ['T1552.007'],
  }
}

function run(verdicts: Record<string, Verdict>, telemetry = 10): RunResult {
  const steps = Object.entries(verdicts).map(([id, v]) =>
    stepResult(id, v, v === 'PASSED_BENIGN' || v === 'FALSE_POSITIVE' ? 'benign' : 'attack'),
  )
  return {
    runId: 'r',
    startedAt: '2026-11-30T00:00:00.000Z',
    finishedAt: '2026-11-30T00:01:00.000Z',
    lab: 'default',
    provider: 'kind',
    scenarios: [
      { id: 's', title: 's', techniques: ['T1552.007'], tactic: 'credential-access', file: 's.yaml' },
    ],
    steps,
    summary: summarize(steps),
    manifest: {},
    findings: [{ kind: 'decoy-unavailable', message: 'decoy aws unavailable' }],
    telemetry: { 'k8s-audit': telemetry },
    rules: [],
  }
}

describe('--repeat', () => {
  it('a detection in 2 of 3 attempts reads 2/3, fails the step, and is named flaky', () => {
    const merged = mergeAttempts([
      run({ a: 'DETECTED', b: 'DETECTED', c: 'PASSED_BENIGN' }),
      run({ a: 'LOGGED_NOT_ALERTED', b: 'DETECTED', c: 'PASSED_BENIGN' }),
      run({ a: 'DETECTED', b: 'DETECTED', c: 'FALSE_POSITIVE' }, 5),
    ])
    const [a, b, c] = merged.steps
    expect(a?.attempts).toEqual({
      runs: 3,
      passed: 2,
      detected: 2,
      verdicts: ['DETECTED', 'LOGGED_NOT_ALERTED', 'DETECTED'],
    })
    expect(a?.verdict).toBe('LOGGED_NOT_ALERTED') // the failing attempt is the one shown
    expect(a?.passed).toBe(false)
    expect(attemptsText(a as StepResult)).toBe('2/3 detected')
    expect(b?.passed).toBe(true)
    expect(attemptsText(b as StepResult)).toBe('3/3 detected')
    expect(attemptsText(c as StepResult)).toBe('2/3 passed')
    expect(merged.summary).toMatchObject({ steps: 3, detected: 1, missed: 1, falsePositives: 1 })
    expect(merged.repeat).toBe(3)
    expect(merged.findings.filter((f) => f.kind === 'flaky-detection').map((f) => f.step)).toEqual([
      's/a',
      's/c',
    ])
    // The same finding from every attempt is listed once; telemetry counts add up.
    expect(merged.findings.filter((f) => f.kind === 'decoy-unavailable')).toHaveLength(1)
    expect(merged.telemetry['k8s-audit']).toBe(25)
  })

  it('one attempt is the run itself', () => {
    const one = run({ a: 'DETECTED' })
    expect(mergeAttempts([one])).toBe(one)
  })

  it.each(['0', '101', '-1', '2.5', 'x', ''])('refuses --repeat %s', (t) => {
    expect(() => parseRepeat(t)).toThrow(/--repeat/)
  })
})

describe('repeat rates and the selection in all four outputs', async () => {
  const { readFile } = await import('node:fs/promises')
  const { validateXML } = await import('xmllint-wasm')
  const { renderJson } = await import('../../../src/report/json.js')
  const { renderJunit } = await import('../../../src/report/junit.js')
  const { renderMarkdown } = await import('../../../src/report/markdown.js')
  const { renderNavigatorLayer } = await import('../../../src/report/navigator.js')
  const { reportSchema } = await import('../../../src/report/report-schema.js')
  const merged = mergeAttempts([
    run({ a: 'DETECTED' }),
    run({ a: 'LOGGED_NOT_ALERTED' }),
    run({ a: 'DETECTED' }),
  ])
  merged.selection = { filters: ['--only s/a'], selectedSteps: 1, definedSteps: 5, prerequisites: [] }

  it('report.md: the header says the run is partial and repeated; the step row and gap show 2/3', () => {
    const md = renderMarkdown(merged)
    expect(md).toContain('> **Partial run:** selection: --only s/a (1 of 5 steps)')
    expect(md).toContain('each step ran 3 times')
    expect(md).toContain('LOGGED_NOT_ALERTED (gap) — 2/3 detected')
    expect(md).toContain('- **Attempts:** 2/3 detected: DETECTED, LOGGED\\_NOT\\_ALERTED, DETECTED')
  })

  it('report.json carries attempts, selection and repeat, and matches the report schema', () => {
    const json = JSON.parse(renderJson(merged))
    expect(reportSchema.safeParse(json).success).toBe(true)
    expect(json.steps[0].attempts.detected).toBe(2)
    expect(json.selection.filters).toEqual(['--only s/a'])
    expect(json.repeat).toBe(3)
  })

  it('junit.xml: the failure message names the rate and the file still passes the strict XSD', async () => {
    const xml = renderJunit(merged)
    expect(xml).toMatch(/<failure message="[^"]*— 2\/3 detected"/)
    expect(xml).toContain('<property name="selection" value="--only s/a (1 of 5 steps)"/>')
    const r = await validateXML({
      xml: [{ fileName: 'junit.xml', contents: xml }],
      schema: [{ fileName: 'junit-10.xsd', contents: await readFile('schemas/junit-10.xsd', 'utf8') }],
    })
    expect(r.errors).toEqual([])
  })

  it('navigator-layer.json: the step carries its rate and the layer its scope', () => {
    const layer = JSON.parse(renderNavigatorLayer(merged))
    expect(layer.techniques[0].metadata[0].value).toBe('s/a (LOGGED_NOT_ALERTED — 2/3 detected)')
    expect(layer.description).toContain('Partial run — selection: --only s/a (1 of 5 steps)')
  })
})
