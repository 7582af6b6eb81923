// A Sigma detection section compiled once into closures: selections → AND/OR of field tests,
// condition → boolean closure, plus the prefilter and near-miss explanation derived from the same tree.
import type { FieldVeto, NearMiss } from '../types.js'
import { type Condition, ConditionError, parseCondition, selectionPolarity } from './condition.js'
import { compileFieldTest, type FieldTest } from './field-test.js'
import { type Issues, isRecord, isScalar } from './issues.js'

/** A selection is an OR of branches; a branch is an AND of field tests. */
interface Selection {
  readonly name: string
  readonly branches: readonly (readonly FieldTest[])[]
  test(): boolean
}

export interface CompiledDetection {
  matches(): boolean
  prefilter: string[] | undefined
  prefilterChoices: string[][]
  vetoes: FieldVeto[]
  nearMiss(rule: string): NearMiss | undefined
}

export function compileDetection(detection: unknown, issues: Issues): CompiledDetection | undefined {
  if (!isRecord(detection)) {
    issues.add('detection', detection === undefined ? 'missing detection section' : 'detection must be a map')
    return undefined
  }
  const selections = new Map<string, Selection>()
  for (const [name, body] of Object.entries(detection)) {
    if (name === 'condition') continue
    if (name === 'timeframe') {
      issues.add(
        'detection.timeframe',
        "'timeframe' is not supported: use a correlation rule with 'timespan'",
      )
      continue
    }
    const sel = compileSelection(name, body, `detection.${name}`, issues)
    if (sel) selections.set(name, sel)
  }
  if (Object.keys(detection).filter((k) => k !== 'condition').length === 0) {
    issues.add('detection', 'no selections defined')
  }
  const conditions = parseConditions(
    detection.condition,
    Object.keys(detection).filter((k) => k !== 'condition'),
    issues,
  )
  if (!conditions || selections.size !== Object.keys(detection).filter((k) => k !== 'condition').length)
    return undefined
  const root: Condition = conditions.length === 1 ? conditions[0]! : { kind: 'or', items: conditions }
  const matches = compileCondition(root, selections)
  return {
    matches,
    prefilter: conditionLiterals(root, selections),
    prefilterChoices: conditionChoices(root, selections),
    vetoes: conditionVetoes(root, selections),
    nearMiss: (rule) => explain(rule, root, selections),
  }
}

function parseConditions(raw: unknown, names: string[], issues: Issues): Condition[] | undefined {
  if (raw === undefined) {
    issues.add('detection.condition', 'missing condition')
    return undefined
  }
  const list = Array.isArray(raw) ? raw : [raw]
  const out: Condition[] = []
  list.forEach((src, i) => {
    const path = Array.isArray(raw) ? `detection.condition[${i}]` : 'detection.condition'
    if (typeof src !== 'string') {
      issues.add(path, 'condition must be a string')
      return
    }
    try {
      out.push(parseCondition(src, names))
    } catch (e) {
      if (!(e instanceof ConditionError)) throw e
      issues.add(path, `bad condition: ${e.message}`)
    }
  })
  if (list.length === 0) issues.add('detection.condition', 'empty condition list')
  return out.length === list.length && list.length > 0 ? out : undefined
}

function compileSelection(name: string, body: unknown, path: string, issues: Issues): Selection | undefined {
  const before = issues.list.length
  let branches: FieldTest[][] = []
  if (isRecord(body)) branches = [compileBranch(body, path, issues)]
  else if (Array.isArray(body) && body.length > 0 && body.every(isRecord)) {
    branches = body.map((b, i) => compileBranch(b, `${path}[${i}]`, issues))
  } else if (
    Array.isArray(body) ? body.length > 0 && body.every(isScalar) : isScalar(body) && body !== null
  ) {
    // A bare value or list of values is a keyword search over the whole event.
    const test = compileFieldTest('', body, path, issues)
    if (test) branches = [[test]]
  } else {
    issues.add(path, 'selection must be a map, a list of maps or a list of keywords')
  }
  if (issues.list.length > before) return undefined
  // Evaluate cheap tests first; keep the YAML order for explanations ("first failing field").
  const sorted = branches.map((b) => [...b].sort((x, y) => x.cost - y.cost))
  return { name, branches, test: anyBranch(sorted) }
}

function compileBranch(map: Record<string, unknown>, path: string, issues: Issues): FieldTest[] {
  const tests: FieldTest[] = []
  if (Object.keys(map).length === 0) issues.add(path, 'empty selection map')
  for (const [key, value] of Object.entries(map)) {
    const test = compileFieldTest(key, value, `${path}.${key}`, issues)
    if (test) tests.push(test)
  }
  return tests
}

function allTests(tests: readonly FieldTest[]): () => boolean {
  if (tests.length === 1) return tests[0]!.test
  if (tests.length === 2) {
    const [a, b] = [tests[0]!.test, tests[1]!.test]
    return () => a() && b()
  }
  const fns = tests.map((t) => t.test)
  return () => {
    for (const f of fns) if (!f()) return false
    return true
  }
}

function anyBranch(branches: readonly (readonly FieldTest[])[]): () => boolean {
  const fns = branches.map(allTests)
  if (fns.length === 1) return fns[0]!
  return () => {
    for (const f of fns) if (f()) return true
    return false
  }
}

function compileCondition(cond: Condition, sels: ReadonlyMap<string, Selection>): () => boolean {
  switch (cond.kind) {
    case 'ref':
      return sels.get(cond.name)!.test
    case 'not': {
      const inner = compileCondition(cond.item, sels)
      return () => !inner()
    }
    case 'of': {
      const fns = cond.names.map((n) => sels.get(n)!.test)
      const min = cond.min
      return () => {
        let hits = 0
        for (const f of fns) if (f() && ++hits >= min) return true
        return false
      }
    }
    case 'and': {
      const fns = cond.items.map((c) => compileCondition(c, sels))
      return () => {
        for (const f of fns) if (!f()) return false
        return true
      }
    }
    case 'or': {
      const fns = cond.items.map((c) => compileCondition(c, sels))
      return () => {
        for (const f of fns) if (f()) return true
        return false
      }
    }
  }
}

// --- prefilter -------------------------------------------------------------------------------------

/** Tests any one of which, when it passes, makes the condition false: its `not` parts, through AND. */
function conditionVetoes(cond: Condition, sels: ReadonlyMap<string, Selection>): FieldVeto[] {
  if (cond.kind === 'and') return cond.items.flatMap((c) => conditionVetoes(c, sels))
  return cond.kind === 'not' ? sufficientTests(cond.item, sels) : []
}

/** Tests any one of which, when it passes, makes the condition true (through OR and `1 of`). */
function sufficientTests(cond: Condition, sels: ReadonlyMap<string, Selection>): FieldVeto[] {
  // A selection passes when one of its branches does, and a one-test branch when its test does.
  const selection = (name: string) =>
    sels.get(name)!.branches.flatMap((b) => (b.length === 1 && b[0]!.veto ? [b[0]!.veto] : []))
  switch (cond.kind) {
    case 'ref':
      return selection(cond.name)
    case 'of':
      return cond.min === 1 ? cond.names.flatMap(selection) : []
    case 'or':
      return cond.items.flatMap((c) => sufficientTests(c, sels))
    default:
      return []
  }
}

/** Literal sets: "one of these must be present". AND keeps the most selective side, OR takes the union. */
function conditionLiterals(cond: Condition, sels: ReadonlyMap<string, Selection>): string[] | undefined {
  switch (cond.kind) {
    case 'ref':
      return selectionLiterals(sels.get(cond.name)!)
    case 'not':
      return undefined
    case 'of': {
      const parts = cond.names.map((n) => selectionLiterals(sels.get(n)!))
      return cond.min === cond.names.length ? best(parts) : union(parts)
    }
    case 'and':
      return best(cond.items.map((c) => conditionLiterals(c, sels)))
    case 'or':
      return union(cond.items.map((c) => conditionLiterals(c, sels)))
  }
}

/** Every literal list the condition requires (any one is a valid prefilter): AND-ed parts each give theirs. */
function conditionChoices(cond: Condition, sels: ReadonlyMap<string, Selection>): string[][] {
  const one = (list: string[] | undefined) => (list ? [list] : [])
  switch (cond.kind) {
    case 'ref': {
      const sel = sels.get(cond.name)!
      if (sel.branches.length !== 1) return one(selectionLiterals(sel))
      return sel.branches[0]!.flatMap((t) => (t.literals ? [[...t.literals]] : []))
    }
    case 'and':
      return cond.items.flatMap((c) => conditionChoices(c, sels))
    case 'of':
      if (cond.min === cond.names.length)
        return cond.names.flatMap((n) => conditionChoices({ kind: 'ref', name: n }, sels))
      return one(conditionLiterals(cond, sels))
    default:
      return one(conditionLiterals(cond, sels))
  }
}

function selectionLiterals(sel: Selection): string[] | undefined {
  return union(sel.branches.map((b) => best(b.map((t) => (t.literals ? [...t.literals] : undefined)))))
}

function union(parts: (string[] | undefined)[]): string[] | undefined {
  if (parts.length === 0 || parts.some((p) => p === undefined)) return undefined
  return [...new Set(parts.flat() as string[])]
}

/** The most selective defined set: fewest literals, then longest shortest literal. */
function best(parts: (string[] | undefined)[]): string[] | undefined {
  let pick: string[] | undefined
  for (const p of parts) {
    if (!p) continue
    if (!pick || p.length < pick.length || (p.length === pick.length && shortest(p) > shortest(pick)))
      pick = p
  }
  return pick
}

function shortest(lits: readonly string[]): number {
  return Math.min(...lits.map((l) => l.length))
}

// --- near miss -------------------------------------------------------------------------------------

/**
 * The positive branch with the highest share of passing tests, and its first failing test. When every
 * positive branch passes, the rule failed on a `not` selection: report the test that matched it.
 */
function explain(rule: string, root: Condition, sels: ReadonlyMap<string, Selection>): NearMiss | undefined {
  let top: { score: number; failed: FieldTest; passed: number } | undefined
  let bestComplete = -1
  const polarity = selectionPolarity(root)
  for (const [name, negated] of polarity) {
    if (negated) continue
    for (const branch of sels.get(name)!.branches) {
      const failed = branch.filter((t) => !t.test())
      const passed = branch.length - failed.length
      if (failed.length === 0) bestComplete = Math.max(bestComplete, passed)
      else if (!top || passed / branch.length > top.score) {
        top = { score: passed / branch.length, failed: failed[0]!, passed }
      }
    }
  }
  if (bestComplete < 0 && top) return miss(rule, top.score, top.failed, top.failed.expected)
  for (const [name, negated] of polarity) {
    if (!negated) continue
    for (const branch of sels.get(name)!.branches) {
      if (branch.length === 0 || !branch.every((t) => t.test())) continue
      const passed = Math.max(bestComplete, 0)
      return miss(
        rule,
        passed / (passed + 1),
        branch[0]!,
        `not ${branch[0]!.expected} (excluded by '${name}')`,
      )
    }
  }
  return top ? miss(rule, top.score, top.failed, top.failed.expected) : undefined
}

function miss(rule: string, score: number, test: FieldTest, expected: string): NearMiss {
  return { rule, score, field: test.field, expected, actual: test.actual() }
}
