import { existsSync } from 'node:fs'
import { buildDomain, lintRules } from '../detection/lint/index.js'
import { loadRules } from '../detection/load-rules.js'
import { type Issue, ValidationError } from '../errors.js'
import { classifyInputs } from './classify.js'
import { loadScenarios } from './load.js'
import { checkRuleReferences } from './references.js'

/** A rule that loads but can never fire on the lab's telemetry (`lint-rules`): a warning in validate. */
export interface DeadRuleWarning {
  rule: string
  title: string
  file: string
  reasons: string[]
}

export interface ValidateReport {
  scenarios: number
  steps: number
  rules: number
  /** Where the rules the references were checked against came from ('' when none were available). */
  rulesFrom: string[]
  warnings: DeadRuleWarning[]
}

/**
 * `purplekind validate`: scenario files and rule files, told apart by content, each loaded by its own
 * loader; every scenario's rule references checked against the rules (did-you-mean); every problem of
 * every file in one ValidationError. Rules that can never fire are warnings, not errors.
 */
export async function validateInputs(
  paths: readonly string[],
  opts: { rules?: readonly string[]; recordings?: readonly string[] } = {},
): Promise<ValidateReport> {
  const inputs = await classifyInputs(paths)
  const issues: Issue[] = []
  const collect = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work()
    } catch (e) {
      if (e instanceof ValidationError) issues.push(...e.issues)
      else throw e
      return undefined
    }
  }
  const scenarios = inputs.scenarios.length ? await collect(() => loadScenarios(inputs.scenarios)) : []
  const rulesFrom = opts.rules?.length
    ? [...opts.rules]
    : inputs.rules.length
      ? inputs.rules
      : existsSync('detections')
        ? ['detections']
        : []
  const ruleSet = rulesFrom.length ? await collect(() => loadRules(rulesFrom)) : undefined
  if (scenarios && ruleSet) await collect(async () => checkRuleReferences(scenarios, ruleSet))
  if (issues.length) throw new ValidationError(issues)
  // Dead rules only for the rules validated here (not the default ./detections used for references).
  const warnings: DeadRuleWarning[] = []
  if (inputs.rules.length) {
    const lint = await lintRules(inputs.rules, await buildDomain([...(opts.recordings ?? [])]))
    for (const f of lint.findings)
      if (f.status === 'DEAD')
        warnings.push({ rule: f.rule, title: f.title, file: f.file, reasons: f.reasons })
  }
  return {
    scenarios: scenarios?.length ?? 0,
    steps: (scenarios ?? []).reduce((n, s) => n + s.steps.length, 0),
    rules: inputs.rules.length ? (ruleSet?.rules.length ?? 0) + (ruleSet?.correlations.length ?? 0) : 0,
    rulesFrom,
    warnings,
  }
}
