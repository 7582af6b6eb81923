import { describe, expect, it } from 'vitest'
import { diffReports, formatDiff } from '../../../src/report/diff.js'
import { renderJson } from '../../../src/report/json.js'
import type { RunResult } from '../../../src/run/result.js'
import { runResult } from '../../fixtures/report/run-result.js'

const report = (r: RunResult) => JSON.parse(renderJson(r))

describe('diffReports', () => {
  it('finds nothing between a run and itself', () => {
    const d = diffReports(report(runResult()), report(runResult()))
    expect(d).toMatchObject({ regressions: [], improvements: [], missing: [], added: [] })
    expect(formatDiff(d)[0]).toMatch(/^✔ no regressions/)
  })

  it('a step that stops meeting its expectation and an attack rule that stops firing are regressions', () => {
    const head = runResult()
    const list = head.steps[0]!
    list.verdict = 'LOGGED_NOT_ALERTED'
    list.passed = false
    list.rules = []
    const d = diffReports(report(runResult()), report(head))
    expect(d.regressions).toEqual([
      {
        step: 'k8s-secrets/list-all',
        from: 'DETECTED',
        to: 'LOGGED_NOT_ALERTED',
        message: 'DETECTED → LOGGED_NOT_ALERTED: no longer meets its expectation',
      },
      {
        step: 'k8s-secrets/list-all',
        rule: 'k8s-secrets-enumeration',
        from: 'fired',
        to: 'silent',
        message: 'rule k8s-secrets-enumeration no longer fires',
      },
    ])
    expect(formatDiff(d)).toContain('  - k8s-secrets/list-all: rule k8s-secrets-enumeration no longer fires')
  })

  it('a rule that starts firing on a benign step is a regression; one that stops is an improvement', () => {
    const base = runResult()
    const head = runResult()
    const own = head.steps.find((s) => s.step === 'benign-own-secret')!
    own.rules = ['k8s-secret-read']
    const noisy = head.steps.find((s) => s.step === 'benign-noisy')!
    noisy.rules = []
    noisy.verdict = 'PASSED_BENIGN'
    const d = diffReports(report(base), report(head))
    expect(d.regressions.map((c) => [c.step, c.rule])).toEqual([
      ['k8s-secrets/benign-own-secret', 'k8s-secret-read'],
    ])
    expect(d.improvements.map((c) => [c.step, c.rule])).toEqual([
      ['k8s-secrets/benign-noisy', 'k8s-secrets-enumeration'],
    ])
  })

  it('fixing a gap is an improvement; steps in one run only are listed, not judged', () => {
    const head = runResult()
    const exec = head.steps.find((s) => s.step === 'exec-token')!
    exec.verdict = 'DETECTED'
    exec.passed = true
    exec.rules = ['k8s-exec-token-read']
    head.steps = head.steps.filter((s) => s.step !== 'logs')
    const d = diffReports(report(runResult()), report(head))
    expect(d.regressions).toEqual([])
    expect(d.improvements.map((c) => c.message)).toEqual([
      'LOGGED_NOT_ALERTED → DETECTED: now meets its expectation',
      'rule k8s-exec-token-read now fires',
    ])
    expect(d.missing).toEqual(['docker-logs/logs'])
  })
})
