import { describe, expect, it } from 'vitest'
import { renderJson } from '../../../src/report/json.js'
import type { StepResult } from '../../../src/run/result.js'
import { RUN_ID, runResult } from '../../fixtures/report/run-result.js'

describe('renderJson', () => {
  const result = runResult()
  const report = JSON.parse(renderJson(result))

  it('carries the run identity and the summary counts, plus the number of gaps', () => {
    expect(report.runId).toBe(RUN_ID)
    expect(report.durationMs).toBe(150_000)
    expect(report.summary).toEqual({
      steps: 12,
      attackSteps: 9,
      detected: 3,
      missed: 3,
      blocked: 1,
      falsePositives: 1,
      noisy: 1,
      benignSteps: 3,
      skipped: 1,
      notRecorded: 1,
      gaps: 5,
    })
  })

  it('keeps every StepResult field except the raw events on alerts', () => {
    expect(report.steps).toHaveLength(result.steps.length)
    result.steps.forEach((step: StepResult, i: number) => {
      const written = report.steps[i]
      const { alerts, ...rest } = step
      expect(written).toMatchObject(JSON.parse(JSON.stringify(rest)))
      expect(written.alerts).toHaveLength(alerts.length)
      for (const alert of written.alerts) expect(alert).not.toHaveProperty('evidence')
    })
    const first = report.steps[0]
    expect(Object.keys(first)).toEqual(
      expect.arrayContaining(['scenario', 'step', 'kind', 'command', 'verdict', 'rules', 'latencyMs']),
    )
    expect(first.alerts[0]).toMatchObject({
      rule: 'k8s-secrets-enumeration',
      auditID: 'a-1',
      pipeline: 'builtin',
    })
  })

  it('never serializes an alert evidence event', () => {
    expect(result.steps[0]?.alerts[0]?.evidence).toBeDefined()
    expect(renderJson(result)).not.toContain('"evidence": {')
    expect(renderJson(result)).not.toContain('"requestURI"')
  })

  it('includes findings, manifest, rules and telemetry counts', () => {
    expect(report.findings).toEqual(result.findings)
    expect(report.manifest.kubernetes).toBe('v1.36.3')
    expect(report.telemetry['k8s-audit']).toBe(120)
    expect(report.rules).toHaveLength(2)
  })
})
