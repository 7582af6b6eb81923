// Runs a RunSpec: loads and selects its scenarios, loads its rules and checks the scenarios' references to
// them, then runs the steps on a lab (lab-run.ts) or re-asserts a recording (replay.ts). Writing the
// reports is the caller's (report/publish.ts): this returns the result and the redactor that must hide
// the run's secrets in every output.
import { loadRules } from '../detection/load-rules.js'
import type { RuleSet } from '../detection/types.js'
import { formatIssue, type Issue } from '../errors.js'
import { Redactor } from '../redact/redactor.js'
import { loadScenarios, type Scenario } from '../scenario/load.js'
import { checkRuleReferences } from '../scenario/references.js'
import { type LabFault, type LabRunHooks, type LabRunOutcome, runOnLab } from './lab-run.js'
import { createPipelines } from './pipelines/index.js'
import { replayRecording } from './replay.js'
import type { RunResult } from './result.js'
import type { Selection } from './select.js'
import { selectScenarios } from './select.js'
import { newRunId, type ReplaySpec, type RunSpec } from './spec.js'
import { summarize } from './summary.js'

export type RunHooks = LabRunHooks

export interface RunOutcome {
  result: RunResult
  /** Knows the run's canary values: every output of the run goes through it. */
  redactor: Redactor
  /** The lab the steps ran on (none for a replay or an empty selection). */
  lab?: LabRunOutcome['lab']
  fault?: LabFault
}

export async function runSpec(spec: RunSpec, hooks: RunHooks): Promise<RunOutcome> {
  const all = await loadScenarios(spec.scenarios.paths)
  const { scenarios, selection } = selectScenarios(all, spec.scenarios.select)
  if (spec.source.kind === 'replay') return replay(spec, spec.source, all, scenarios, selection, hooks)
  if (!scenarios.length) return { result: emptyRun(newRunId(), selection), redactor: new Redactor() }
  const ruleSet = await rulesFor(spec, scenarios, hooks, spec.source.intake !== undefined)
  const redactor = new Redactor()
  const ran = await runOnLab(
    spec.source,
    { scenarios, ruleSet, pipelines: spec.pipelines, runId: newRunId(), redactor },
    hooks,
  )
  if (selection) ran.result.selection = selection
  return { ...ran, redactor }
}

// No lab at all: a recorded run re-asserted against today's rules.
async function replay(
  spec: RunSpec,
  source: ReplaySpec,
  all: Scenario[],
  scenarios: Scenario[],
  selection: Selection | undefined,
  hooks: RunHooks,
): Promise<RunOutcome> {
  const ruleSet = await rulesFor(spec, scenarios, hooks, false)
  const pipelines = spec.pipelines.length
    ? createPipelines(spec.pipelines, { ruleSet, live: false, log: hooks.log })
    : undefined
  const runId = `replay-${newRunId()}`
  const result = await replayRecording(source.recording, scenarios, ruleSet, runId, pipelines, all)
  if (selection) result.selection = selection
  return { result, redactor: new Redactor() }
}

// The rules, and every rule id the scenarios name checked against them. Ids an external pipeline (or the
// http intake) raises need not be loaded locally: those are named as warnings, not errors.
async function rulesFor(
  spec: RunSpec,
  scenarios: readonly Scenario[],
  hooks: RunHooks,
  intake: boolean,
): Promise<RuleSet> {
  const paths = spec.rules.paths.length ? spec.rules.paths : ['detections']
  const ruleSet = await loadRules(paths, { macros: spec.rules.macros })
  const external = [...spec.pipelines, ...(intake ? ['http'] : [])].some((p) => !p.startsWith('builtin'))
  const warn = external
    ? (issues: readonly Issue[]) => {
        for (const i of issues)
          hooks.log(`! ${formatIssue(i)} — not loaded locally; expected from the external pipeline`)
      }
    : undefined
  checkRuleReferences(scenarios, ruleSet, warn)
  return ruleSet
}

/** A selection with nothing in it (an empty --shard): a run with no steps, written like any other. */
export function emptyRun(runId: string, selection: Selection | undefined): RunResult {
  const now = new Date().toISOString()
  return {
    runId,
    startedAt: now,
    finishedAt: now,
    lab: 'none (nothing selected)',
    provider: 'none',
    scenarios: [],
    steps: [],
    summary: summarize([]),
    manifest: { harness: 'purplekind 0.1.0' },
    findings: [],
    telemetry: {},
    rules: [],
    ...(selection ? { selection } : {}),
  }
}
