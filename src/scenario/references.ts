import type { RuleSet } from '../detection/types.js'
import { type Issue, ValidationError } from '../errors.js'
import { suggest } from '../util/suggest.js'
import type { Scenario } from './load.js'

// Every `expect.alerts` / `silent` / `knownGaps` rule must exist: a typo would otherwise read as a miss.
// With an alert intake, ids may name external rules: unknown ones go to `warn` instead of failing.
export function checkRuleReferences(
  scenarios: readonly Scenario[],
  rules: RuleSet,
  warn?: (issues: readonly Issue[]) => void,
): void {
  const known = new Set([...rules.rules.map((r) => r.id), ...rules.correlations.map((c) => c.id)])
  const issues: Issue[] = []
  for (const s of scenarios) {
    s.steps.forEach((st, n) => {
      const refs: [string, string][] = [
        ...st.expect.alerts.map((r, i) => [`steps[${n}].expect.alerts[${i}]`, r] as [string, string]),
        ...(Array.isArray(st.expect.silent) ? st.expect.silent : []).map(
          (r, i) => [`steps[${n}].expect.silent[${i}]`, r] as [string, string],
        ),
        ...st.expect.knownGaps.map(
          (g, i) => [`steps[${n}].expect.knownGaps[${i}].rule`, g.rule] as [string, string],
        ),
      ]
      for (const [p, id] of refs) {
        if (!known.has(id)) {
          const near = suggest(id, known)
          issues.push({
            file: s.file,
            path: p,
            message: `unknown rule "${id}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`,
            code: 'PURPLE_SCENARIO_BAD_REFERENCE',
          })
        }
      }
    })
  }
  if (issues.length && warn) warn(issues)
  else if (issues.length) throw new ValidationError(issues)
}
