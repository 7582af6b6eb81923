// The shape of report.json (reportVersion 2), as a zod schema: the source of schemas/report.schema.json
// (`node dist/report/report-schema.js`), so consumers can validate what they read.
import { writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { FINDING_KINDS, VERDICTS } from '../run/result.js'
import { SOURCES } from '../telemetry/event.js'

const source = z.enum(SOURCES)
const count = z.number().int().min(0)

const alert = z.strictObject({
  rule: z.string(),
  title: z.string(),
  level: z.string().optional(),
  tags: z.array(z.string()),
  message: z.string().optional(),
  file: z.string().optional(),
  event: z.number().optional(),
  auditID: z.string().optional(),
  time: z.string(),
  alertTime: z.string(),
  pipeline: z.string(),
  correlation: z.enum(['audit-id', 'window']).optional(),
})

const step = z.strictObject({
  scenario: z.string(),
  step: z.string(),
  title: z.string(),
  kind: z.enum(['attack', 'benign']),
  actor: z.string(),
  command: z.string(),
  verdict: z.enum(VERDICTS),
  passed: z.boolean(),
  rules: z.array(z.string()),
  expectedRules: z.array(z.string()),
  latencyMs: z.number().optional(),
  telemetryLatencyMs: z.number().optional(),
  budgetMs: z.number().optional(),
  correlation: z.enum(['audit-id', 'marker', 'window', 'none']),
  evidence: z.array(
    z.strictObject({ source, time: z.string(), excerpt: z.string(), auditID: z.string().optional() }),
  ),
  alerts: z.array(alert),
  explanation: z.string().optional(),
  nearMiss: z
    .strictObject({
      rule: z.string(),
      score: z.number(),
      field: z.string(),
      expected: z.string(),
      actual: z.unknown(),
    })
    .optional(),
  exitCode: z.number().optional(),
  output: z.string().optional(),
  canariesRetrieved: z.array(z.string()),
  startedAt: z.string(),
  durationMs: z.number().optional(),
  techniques: z.array(z.string()),
  mitigations: z.array(z.string()).optional(),
  attempts: z
    .strictObject({
      runs: count,
      passed: count,
      detected: count,
      verdicts: z.array(z.enum(VERDICTS)),
    })
    .optional(),
})

export const reportSchema = z.strictObject({
  reportVersion: z.literal(2),
  runId: z.string(),
  lab: z.string(),
  provider: z
    .string()
    .describe(
      'what ran the steps: a lab provider (local, kind, existing), replay (a recording re-asserted, no lab) or none (nothing selected); a merged report lists them comma-separated',
    ),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number().optional(),
  summary: z.strictObject({
    steps: count,
    attackSteps: count,
    detected: count,
    missed: count,
    blocked: count,
    falsePositives: count,
    noisy: count,
    benignSteps: count,
    skipped: count,
    notRecorded: count,
    /** Absent in reports written before lab faults were reported. */
    notRun: count.optional(),
    gaps: count,
  }),
  scenarios: z.array(
    z.strictObject({
      id: z.string(),
      title: z.string(),
      techniques: z.array(z.string()),
      tactic: z.string(),
      file: z.string(),
    }),
  ),
  steps: z.array(step),
  findings: z.array(
    z.strictObject({
      kind: z.enum(FINDING_KINDS),
      step: z.string().optional(),
      rule: z.string().optional(),
      message: z.string(),
    }),
  ),
  telemetry: z.partialRecord(source, count),
  rules: z.array(
    z.strictObject({ id: z.string(), title: z.string(), file: z.string(), language: z.string() }),
  ),
  manifest: z.record(z.string(), z.string()),
  /** Present when only part of the suite ran (`--only`, `--technique`, `--tag`, `--shard`). */
  selection: z
    .strictObject({
      filters: z.array(z.string()),
      selectedSteps: count,
      definedSteps: count,
      prerequisites: z.array(z.string()),
    })
    .optional(),
  /** `--repeat N`. */
  repeat: z.number().int().min(1).optional(),
})

export type ReportJson = z.infer<typeof reportSchema>

export function reportJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(reportSchema, { io: 'output', unrepresentable: 'any' }),
    $id: 'https://purplekind.io/schemas/report.schema.json',
    title: 'purplekind report.json (reportVersion 2)',
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'schemas/report.schema.json'
  await writeFile(out, `${JSON.stringify(reportJsonSchema(), null, 2)}\n`)
  console.log(`wrote ${out}`)
}
