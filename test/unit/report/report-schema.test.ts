import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { renderJson } from '../../../src/report/json.js'
import { reportJsonSchema } from '../../../src/report/report-schema.js'
import { runResult } from '../../fixtures/report/run-result.js'

// report.json is checked against the checked-in JSON Schema file itself (converted back to a validator),
// not against the zod schema it was generated from.
const file = JSON.parse(await readFile('schemas/report.schema.json', 'utf8'))
const validator = z.fromJSONSchema(file)

describe('schemas/report.schema.json', () => {
  it('is the schema generated from the code (regenerate: node dist/report/report-schema.js)', () => {
    expect(file).toEqual(JSON.parse(JSON.stringify(reportJsonSchema())))
  })

  it('accepts report.json for a run with every verdict and structured findings', () => {
    const report = JSON.parse(renderJson(runResult()))
    const r = validator.safeParse(report)
    expect(r.error?.issues ?? []).toEqual([])
    expect(report.findings[0]).toEqual({
      kind: 'known-gap',
      step: 'k8s-secrets/exec-token',
      rule: 'k8s-exec-token-read',
      message: expect.stringContaining('can never match'),
    })
  })

  it('is a real check: rejects an unknown verdict, a free-text finding and an unknown field', () => {
    const good = JSON.parse(renderJson(runResult()))
    const bad = (mutate: (r: typeof good) => void) => {
      const r = structuredClone(good)
      mutate(r)
      return validator.safeParse(r).success
    }
    expect(bad((r) => (r.steps[0].verdict = 'MAYBE'))).toBe(false)
    expect(bad((r) => (r.findings = ['free text']))).toBe(false)
    expect(bad((r) => (r.summary.surprise = 1))).toBe(false)
    expect(bad((r) => delete r.summary.skipped)).toBe(false)
  })
})
