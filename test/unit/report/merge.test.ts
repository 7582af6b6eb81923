import { describe, expect, it } from 'vitest'
import { renderJson } from '../../../src/report/json.js'
import { mergeReports } from '../../../src/report/merge.js'
import { reportSchema } from '../../../src/report/report-schema.js'
import { runResult } from '../../fixtures/report/run-result.js'

const asReport = (runId: string) => reportSchema.parse(JSON.parse(renderJson({ ...runResult(), runId })))

describe('mergeReports', () => {
  it('refuses a step reported by two shards (shards of different splits)', () => {
    expect(() =>
      mergeReports(
        [
          { file: 'a/report.json', report: asReport('run-a') },
          { file: 'b/report.json', report: asReport('run-b') },
        ],
        'merged',
      ),
    ).toThrow(/b\/report.json: step .* is also in a\/report.json/)
  })

  it('one report merges into itself: same steps and summary, a new run id', () => {
    const one = asReport('run-a')
    const m = mergeReports([{ file: 'a', report: one }], 'merged')
    expect(m.runId).toBe('merged')
    expect(m.steps.map((s) => s.verdict)).toEqual(one.steps.map((s) => s.verdict))
    expect({ ...m.summary }).toEqual(
      Object.fromEntries(Object.entries(one.summary).filter(([k]) => k !== 'gaps')),
    )
  })
})
