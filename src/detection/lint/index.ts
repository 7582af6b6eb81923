// "Can this rule ever fire?": every loaded rule (Sigma, SPL, Falco) is checked against what the lab's
// telemetry can contain (see domain.ts). A rule is DEAD when every way it could match needs a field no
// source emits, a value outside a field's closed domain, or a verb/stage the apiserver was never
// recorded logging for that subresource. Reasons are generated from the data, never written per rule.
import { readFile } from 'node:fs/promises'
import { SOURCES } from '../../telemetry/event.js'
import { glob } from '../falco/compile.js'
import { type FalcoFile, isFalcoRuleFile, loadFalcoDefinitions } from '../falco/index.js'
import { loadRules } from '../load-rules.js'
import { parseSearch } from '../spl/index.js'
import type { CompiledRule } from '../types.js'
import { auditTopLevelFields, DEPENDENT_FIELDS, type Domain, fieldShape } from './domain.js'
import { type Atom, type Formula, toDnf } from './formula.js'
import { falcoFormula, sigmaFormulas, splFormula } from './from-rules.js'

export { buildDomain, type Domain } from './domain.js'

export interface LintFinding {
  rule: string
  title: string
  file: string
  language: CompiledRule['language']
  /** DEAD: can never fire on this telemetry; UNCHECKED: too large to judge. */
  status: 'DEAD' | 'UNCHECKED'
  reasons: string[]
}

export interface LintReport {
  checked: number
  findings: LintFinding[]
}

export async function lintRules(paths: readonly string[], domain: Domain): Promise<LintReport> {
  const set = await loadRules(paths)
  const formulas = await ruleFormulas(set.rules, set.files)
  const findings: LintFinding[] = []
  for (const rule of set.rules) {
    const formula = formulas.get(rule)
    if (!formula) continue
    const finding = judge(rule, formula, domain)
    if (finding) findings.push(finding)
  }
  return { checked: set.rules.length, findings }
}

/** Each rule's formula, from its own file read again with its language's parser. */
async function ruleFormulas(rules: readonly CompiledRule[], files: readonly string[]) {
  const texts = new Map<string, string>()
  for (const f of files) texts.set(f, await readFile(f, 'utf8'))
  const out = new Map<CompiledRule, Formula>()
  const falcoFiles: FalcoFile[] = [...texts]
    .filter(([, t]) => isFalcoRuleFile(t))
    .map(([path, text]) => ({ path, text }))
  const falco = new Map(loadFalcoDefinitions(falcoFiles).rules.map((d) => [d.name, d]))
  const sigmaByFile = new Map<string, Formula[]>()
  const sigmaSeen = new Map<string, number>()
  for (const rule of rules) {
    const text = texts.get(rule.file) ?? ''
    if (rule.language === 'falco') {
      const def = falco.get(rule.id)
      if (def) out.set(rule, falcoFormula(def.condition))
    } else if (rule.language === 'spl') {
      out.set(rule, splFormula(parseSearch(splSearchText(text), rule.file)))
    } else {
      const list = sigmaByFile.get(rule.file) ?? sigmaFormulas(text)
      sigmaByFile.set(rule.file, list)
      const i = sigmaSeen.get(rule.file) ?? 0
      sigmaSeen.set(rule.file, i + 1)
      const f = list[i]
      if (f) out.set(rule, f)
    }
  }
  return out
}

/** The search of an SPL rule file: leading `#` header/comment lines blanked (columns stay the same). */
function splSearchText(text: string): string {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim()
    if (t !== '' && !t.startsWith('#')) break
    lines[i] = ''
  }
  return lines.join('\n')
}

function judge(rule: CompiledRule, formula: Formula, domain: Domain): LintFinding | undefined {
  const base = { rule: rule.id, title: rule.title, file: rule.file, language: rule.language }
  const terms = toDnf(formula)
  if (!terms) {
    return {
      ...base,
      status: 'UNCHECKED',
      reasons: ['condition too large to enumerate (over 512 alternatives)'],
    }
  }
  const reasons = new Set<string>()
  for (const source of rule.sources ?? SOURCES) {
    for (const term of terms) {
      const why = deadTerm(term, source, domain)
      if (!why) return undefined
      reasons.add(why)
    }
  }
  return { ...base, status: 'DEAD', reasons: [...reasons] }
}

/** Why this conjunction can match no event of `source`, or undefined when some event could. */
function deadTerm(
  term: readonly Atom[],
  source: (typeof SOURCES)[number],
  domain: Domain,
): string | undefined {
  for (const a of term) {
    const shape = fieldShape(domain, source, a.field)
    if (shape.kind === 'absent')
      return `${source} events have no field '${a.field}'${nearPaths(domain, source, a.field)}`
    if (shape.kind === 'present' && shape.values && a.kind === 'glob') {
      if (!shape.values.some((v) => matches(a, v))) {
        const what = shape.describe ?? `one of ${shape.values.join(', ')}`
        return `${a.text}: ${a.field} is ${what}, so ${showPatterns(a)} can never match`
      }
    }
  }
  if (source === 'k8s-audit') return coOccurrence(term, domain)
  return undefined
}

/** Verb/stage the recordings never logged for the subresource the term requires. */
function coOccurrence(term: readonly Atom[], domain: Domain): string | undefined {
  const subAtoms = term.filter((a) => a.field === 'objectRef.subresource' && a.kind === 'glob')
  if (!subAtoms.length) return undefined
  const subs = [...domain.bySubresource.keys()].filter((s) => subAtoms.every((a) => matches(a, s))).sort()
  if (!subs.length) return undefined // never exercised: nothing to compare against
  for (const field of DEPENDENT_FIELDS) {
    const need = term.filter((a) => a.field === field && a.kind === 'glob')
    if (!need.length) continue
    const seen = new Set(subs.flatMap((s) => [...(domain.bySubresource.get(s)?.values.get(field) ?? [])]))
    if (!seen.size || [...seen].some((v) => need.every((a) => matches(a, v)))) continue
    const required = need.map(showRequirement).join(' and ')
    const subText =
      subs.length === 1 ? `objectRef.subresource=${subs[0]}` : `objectRef.subresource in (${subs.join(', ')})`
    return `no recorded event has ${required} with ${subText}; observed ${field}s for ${subs.join(', ')}: ${[...seen].sort().join(', ')}`
  }
  return undefined
}

function matches(a: Atom, value: string): boolean {
  return a.patterns.some((p) => glob(p, value, !a.caseSensitive))
}

function literalOf(p: string): string {
  return p.replace(/\\(.)/g, '$1')
}

function showPatterns(a: Atom): string {
  const shown = a.patterns.map((p) => `'${literalOf(p)}'`)
  return shown.length === 1 ? shown[0]! : `any of ${shown.join(', ')}`
}

function showRequirement(a: Atom): string {
  const values = a.patterns.map(literalOf)
  return values.length === 1 ? `${a.field}=${values[0]}` : `${a.field} in (${values.join(', ')})`
}

/** Recorded paths that end with the missing field's last segment (where the data actually lives). */
function nearPaths(domain: Domain, source: (typeof SOURCES)[number], field: string): string {
  const last = field.slice(field.lastIndexOf('.') + 1)
  const hits = [...(domain.seenPaths.get(source) ?? [])]
    .filter((p) => p !== field && p.endsWith(`.${last}`))
    .sort()
  if (hits.length) return `; recorded events have it at ${hits.slice(0, 3).join(', ')}`
  if (source === 'k8s-audit' && !field.includes('.')) {
    return `; its top-level fields are ${auditTopLevelFields().join(', ')}`
  }
  return ''
}
