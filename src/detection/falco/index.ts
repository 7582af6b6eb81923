// Falco rules as a third rule language (see docs/falco.md): rule files are loaded unmodified as one
// rule set and evaluated over the k8s-audit source with the k8saudit/json plugins' field semantics.
import type { Issue } from '../../errors.js'
import type { CompiledRule } from '../types.js'
import { compileFalcoRule } from './compile.js'
import { type FalcoFile, loadFalcoDefinitions } from './ruleset.js'

export type { FalcoFile, FalcoRuleDef, Resolved } from './ruleset.js'
export { isFalcoRuleFile, loadFalcoDefinitions } from './ruleset.js'

/** Compiles Falco rule files together (later files may append to or override earlier ones). */
export function loadFalcoRules(files: readonly FalcoFile[]): { rules: CompiledRule[]; issues: Issue[] } {
  const { rules, issues } = loadFalcoDefinitions(files)
  return { rules: rules.map(compileFalcoRule), issues }
}
