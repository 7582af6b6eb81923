// Falco rule files → resolved rule definitions. Files are read in order as one rule set (as Falco does):
// lists, macros and rules may be appended to or overridden by later items and files; conditions are
// parsed, macros inlined and list names expanded once, here, so evaluation never looks anything up.

import type { Issue } from '../../errors.js'
import { yaml } from '../../util/yaml.js'
import {
  ConditionSyntaxError,
  type Expr,
  type FieldRef,
  LIST_OPS,
  type Operator,
  parseCondition,
  type Value,
} from './condition.js'
import { FIELDS } from './fields.js'

export interface FalcoFile {
  path: string
  text: string
}

/** A condition with macros inlined and list names replaced by their items. */
export type Resolved =
  | { kind: 'and' | 'or'; items: Resolved[] }
  | { kind: 'not'; item: Resolved }
  | { kind: 'check'; field: FieldRef; op: Operator; values: string[] }

export interface FalcoRuleDef {
  name: string
  file: string
  desc: string
  condition: Resolved
  output: string
  priority: string
  tags: string[]
  enabled: boolean
}

/** Plugins whose fields purplekind evaluates, and the version whose field set it reproduces. */
export const EMULATED_PLUGINS: ReadonlyMap<string, string> = new Map([
  ['k8saudit', '0.18.0'],
  ['json', '0.7.4'],
])

/** The k8saudit plugin's source name; rules for other sources cannot be evaluated here. */
export const K8S_AUDIT_SOURCE = 'k8s_audit'

const SUPPORTED_TRANSFORMERS = new Set(['tolower', 'toupper', 'basename'])
const UNSUPPORTED_OPS = new Set<Operator>(['regex', 'bcontains', 'bstartswith'])
const RULE_KEYS = new Set([
  'rule',
  'desc',
  'condition',
  'output',
  'priority',
  'source',
  'tags',
  'enabled',
  'exceptions',
  'append',
  'override',
  'warn_evttypes',
  'skip-if-unknown-filter',
  'capture',
  'capture_duration',
])
const OVERRIDABLE = new Set([
  'condition',
  'output',
  'desc',
  'priority',
  'tags',
  'exceptions',
  'enabled',
  'source',
])

/** Whether a YAML text is a Falco rules file: a top-level sequence of `rule`/`macro`/`list`/… items. */
export function isFalcoRuleFile(text: string): boolean {
  const first = text
    .split('\n')
    .find((l) => l.trim() !== '' && !l.trimStart().startsWith('#') && l.trim() !== '---')
  if (!first?.startsWith('-')) return false
  return /^-\s+(rule|macro|list|required_engine_version|required_plugin_versions)\s*:/m.test(text)
}

interface Exception {
  name: string
  fields: string | string[]
  comps?: string | string[]
  values: unknown[]
}

interface RuleState {
  name: string
  file: string
  where: string
  desc: string
  condition: string
  output: string
  priority: string
  source: string
  tags: string[]
  enabled: boolean
  exceptions: Exception[]
}

interface Definition<T> {
  value: T
  file: string
  where: string
}

class Loader {
  readonly issues: Issue[] = []
  readonly lists = new Map<string, Definition<string[]>>()
  readonly macros = new Map<string, Definition<string>>()
  readonly rules = new Map<string, RuleState>()

  add(file: string, path: string, message: string, code: Issue['code'] = 'PURPLE_RULE_INVALID') {
    this.issues.push({ file, path, message, code })
  }

  loadFile(file: FalcoFile) {
    const doc = yaml().parseDocument(file.text, { uniqueKeys: false })
    if (doc.errors.length) {
      for (const e of doc.errors) this.add(file.path, '(yaml)', e.message)
      return
    }
    if (!yaml().isSeq(doc.contents)) {
      this.add(file.path, '(file)', 'a Falco rules file must be a YAML list of rule, macro and list items')
      return
    }
    const items = doc.toJS({ maxAliasCount: 100 }) as unknown[]
    for (const [i, item] of items.entries()) this.loadItem(file.path, i, item)
  }

  loadItem(file: string, i: number, item: unknown) {
    const at = `[${i}]`
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      this.add(file, at, 'each item must be a mapping (rule, macro, list, …)')
      return
    }
    const o = item as Record<string, unknown>
    if ('rule' in o) this.loadRule(file, i, o)
    else if ('macro' in o) this.loadMacro(file, i, o)
    else if ('list' in o) this.loadList(file, i, o)
    else if ('required_engine_version' in o) return
    else if ('required_plugin_versions' in o) this.checkPlugins(file, at, o.required_plugin_versions)
    else this.add(file, at, `unknown item (keys: ${Object.keys(o).join(', ')}); expected rule, macro or list`)
  }

  /** Refuses plugins purplekind does not emulate, and versions newer than the one it reproduces. */
  checkPlugins(file: string, at: string, value: unknown) {
    if (!Array.isArray(value)) {
      this.add(file, `${at}.required_plugin_versions`, 'must be a list')
      return
    }
    value.forEach((req, j) => {
      const r = req as { name?: unknown; version?: unknown; alternatives?: unknown }
      const options = [r, ...(Array.isArray(r.alternatives) ? r.alternatives : [])] as (typeof r)[]
      const ok = options.some((p) => {
        const have = EMULATED_PLUGINS.get(String(p.name))
        return have !== undefined && compareVersions(have, String(p.version ?? '0')) >= 0
      })
      if (!ok) {
        const emulated = [...EMULATED_PLUGINS].map(([n, v]) => `${n} ${v}`).join(', ')
        this.add(
          file,
          `${at}.required_plugin_versions[${j}]`,
          `requires plugin ${String(r.name)} ≥ ${String(r.version)}; purplekind emulates only ${emulated}`,
          'PURPLE_RULE_UNSUPPORTED',
        )
      }
    })
  }

  loadList(file: string, i: number, o: Record<string, unknown>) {
    const name = String(o.list)
    const where = `[${i}](list '${name}')`
    const items = o.items ?? []
    if (!Array.isArray(items)) return this.add(file, `${where}.items`, 'must be a list')
    const values = items.map(String)
    const mode = this.mode(file, where, o, 'items')
    const existing = this.lists.get(name)
    if (mode === 'append') {
      if (!existing) return this.add(file, where, `appends to list '${name}', which is not defined before it`)
      existing.value = [...existing.value, ...values]
    } else this.lists.set(name, { value: values, file, where })
  }

  loadMacro(file: string, i: number, o: Record<string, unknown>) {
    const name = String(o.macro)
    const where = `[${i}](macro '${name}')`
    if (typeof o.condition !== 'string') return this.add(file, `${where}.condition`, 'must be a string')
    const mode = this.mode(file, where, o, 'condition')
    const existing = this.macros.get(name)
    if (mode === 'append') {
      if (!existing)
        return this.add(file, where, `appends to macro '${name}', which is not defined before it`)
      existing.value = `${existing.value} ${o.condition}`
    } else this.macros.set(name, { value: o.condition, file, where })
  }

  /** `append: true` or `override: {key: append|replace}` for a list's items or a macro's condition. */
  mode(
    file: string,
    where: string,
    o: Record<string, unknown>,
    key: string,
  ): 'append' | 'replace' | 'define' {
    if (o.append === true) return 'append'
    if (o.override === undefined) return 'define'
    const how = (o.override as Record<string, unknown>)?.[key]
    if (how === 'append' || how === 'replace') return how
    this.add(file, `${where}.override`, `expected override: {${key}: append|replace}`)
    return 'define'
  }

  loadRule(file: string, i: number, o: Record<string, unknown>) {
    const name = String(o.rule)
    const where = `[${i}](rule '${name}')`
    for (const key of Object.keys(o)) {
      if (!RULE_KEYS.has(key)) this.add(file, `${where}.${key}`, `unknown rule key '${key}'`)
    }
    const existing = this.rules.get(name)
    const overrides = o.override as Record<string, unknown> | undefined
    if (o.append === true || overrides !== undefined) {
      if (!existing) return this.add(file, where, `modifies rule '${name}', which is not defined before it`)
      for (const key of Object.keys(o)) {
        if (key === 'rule' || key === 'append' || key === 'override') continue
        const how = o.append === true ? 'append' : overrides?.[key]
        if (how !== 'append' && how !== 'replace' && !(overrides && key in overrides)) {
          this.add(file, `${where}.${key}`, `'${key}' is given but not named in override (append|replace)`)
          continue
        }
        if (!OVERRIDABLE.has(key)) {
          this.add(file, `${where}.${key}`, `'${key}' cannot be overridden`)
          continue
        }
        this.applyOverride(existing, key, o[key], how === 'append' ? 'append' : 'replace', file, where)
      }
      return
    }
    // `- rule: X` with only `enabled:` switches an existing rule on or off.
    if (existing && o.condition === undefined && typeof o.enabled === 'boolean') {
      existing.enabled = o.enabled
      return
    }
    if (typeof o.condition !== 'string') return this.add(file, `${where}.condition`, 'must be a string')
    const state: RuleState = {
      name,
      file,
      where,
      desc: String(o.desc ?? ''),
      condition: o.condition,
      output: String(o.output ?? '').trim(),
      priority: String(o.priority ?? 'WARNING'),
      source: String(o.source ?? 'syscall'),
      tags: Array.isArray(o.tags) ? o.tags.map(String) : [],
      enabled: o.enabled !== false,
      exceptions: this.exceptions(file, where, o.exceptions),
    }
    if (existing) this.rules.delete(name)
    this.rules.set(name, state)
  }

  applyOverride(
    rule: RuleState,
    key: string,
    value: unknown,
    how: 'append' | 'replace',
    file: string,
    where: string,
  ) {
    switch (key) {
      case 'condition':
      case 'output':
      case 'desc': {
        const text = String(value ?? '')
        rule[key] = how === 'append' ? `${rule[key]} ${text}` : text
        return
      }
      case 'priority':
      case 'source':
        rule[key] = String(value)
        return
      case 'enabled':
        rule.enabled = value !== false
        return
      case 'tags': {
        const tags = Array.isArray(value) ? value.map(String) : []
        rule.tags = how === 'append' ? [...rule.tags, ...tags] : tags
        return
      }
      case 'exceptions': {
        const added = this.exceptions(file, where, value, true)
        if (how === 'replace') {
          rule.exceptions = added
          return
        }
        for (const e of added) {
          const same = rule.exceptions.find((x) => x.name === e.name)
          if (same) same.values = [...same.values, ...e.values]
          else if (Array.isArray(e.fields) && e.fields.length === 0)
            this.add(
              file,
              `${where}.exceptions`,
              `no exception '${e.name}' to add values to; give its fields`,
            )
          else rule.exceptions.push(e)
        }
      }
    }
  }

  /** `valuesOnly`: an override may give just a name and values, to extend an existing exception. */
  exceptions(file: string, where: string, value: unknown, valuesOnly = false): Exception[] {
    if (value === undefined) return []
    if (!Array.isArray(value)) {
      this.add(file, `${where}.exceptions`, 'must be a list')
      return []
    }
    const out: Exception[] = []
    value.forEach((e: Record<string, unknown>, j) => {
      const at = `${where}.exceptions[${j}]`
      const fields = e?.fields
      const validFields =
        typeof fields === 'string' || (Array.isArray(fields) && fields.every((f) => typeof f === 'string'))
      if (typeof e?.name !== 'string' || !(validFields || (valuesOnly && fields === undefined))) {
        this.add(file, at, 'an exception needs a name and fields (a field or a list of fields)')
        return
      }
      out.push({
        name: e.name,
        fields: (fields ?? []) as string | string[],
        ...(e.comps !== undefined ? { comps: e.comps as string | string[] } : {}),
        values: Array.isArray(e.values) ? e.values : [],
      })
    })
    return out
  }
}

/** Loads Falco rule files as one rule set; problems are returned as issues (all of them). */
export function loadFalcoDefinitions(files: readonly FalcoFile[]): {
  rules: FalcoRuleDef[]
  issues: Issue[]
} {
  const loader = new Loader()
  for (const file of files) loader.loadFile(file)
  const rules: FalcoRuleDef[] = []
  const resolver = new Resolver(loader)
  for (const rule of loader.rules.values()) {
    const fail = (path: string, message: string, code: Issue['code'] = 'PURPLE_RULE_UNSUPPORTED') =>
      loader.add(rule.file, `${rule.where}.${path}`, message, code)
    if (rule.source !== K8S_AUDIT_SOURCE) {
      // A disabled rule of another source (e.g. switched off by an import selection) is simply left out.
      if (!rule.enabled) continue
      fail(
        'source',
        `rule '${rule.name}' is for source '${rule.source}'; purplekind evaluates only ${K8S_AUDIT_SOURCE} (audit) rules`,
      )
      continue
    }
    let tree: Expr
    try {
      tree = parseCondition(rule.condition)
    } catch (error) {
      if (!(error instanceof ConditionSyntaxError)) throw error
      fail('condition', `rule '${rule.name}': ${error.message}`, 'PURPLE_RULE_INVALID')
      continue
    }
    const exceptionTree = exceptionsExpr(rule, loader)
    if (exceptionTree) tree = { kind: 'and', items: [tree, { kind: 'not', item: exceptionTree }] }
    const problems: string[] = []
    const condition = resolver.resolve(tree, problems, [])
    for (const field of outputFields(rule.output)) {
      const problem = fieldProblem(field)
      if (problem) problems.push(`output: ${problem}`)
    }
    if (problems.length) {
      for (const p of new Set(problems))
        fail(
          p.startsWith('output: ') ? 'output' : 'condition',
          `rule '${rule.name}': ${p.replace(/^output: /, '')}`,
        )
      continue
    }
    rules.push({
      name: rule.name,
      file: rule.file,
      desc: rule.desc,
      condition,
      output: rule.output,
      priority: rule.priority,
      tags: rule.tags,
      enabled: rule.enabled,
    })
  }
  return { rules, issues: loader.issues }
}

/** Fields an output string substitutes: `%field`, `%field[arg]` and `%(field)`. */
export function outputFields(output: string): FieldRef[] {
  const out: FieldRef[] = []
  for (const m of output.matchAll(OUTPUT_FIELD)) {
    const name = m[1] ?? m[3]!
    const arg = m[2] ?? m[4]
    out.push({ name, ...(arg !== undefined ? { arg } : {}), transformers: [] })
  }
  return out
}
export const OUTPUT_FIELD =
  /%\(([A-Za-z_][A-Za-z0-9_.]*)(?:\[([^\]]*)\])?\)|%([A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_])(?:\[([^\]]*)\])?/g

/** Why a field reference cannot be evaluated, or undefined when it can. */
export function fieldProblem(field: FieldRef): string | undefined {
  const spec = FIELDS.get(field.name)
  if (!spec) return `unsupported field '${field.name}' (see docs/falco.md for the supported fields)`
  if (spec.arg === 'required' && field.arg === undefined)
    return `field '${field.name}' needs an argument, e.g. ${field.name}[key]`
  if (spec.arg === 'none' && field.arg !== undefined) return `field '${field.name}' takes no argument`
  for (const t of field.transformers) {
    if (!SUPPORTED_TRANSFORMERS.has(t)) return `unsupported field transformer '${t}(…)' on ${field.name}`
  }
  return undefined
}

class Resolver {
  readonly #macros = new Map<string, Expr | null>()
  constructor(readonly loader: Loader) {}

  resolve(e: Expr, problems: string[], stack: string[]): Resolved {
    switch (e.kind) {
      case 'and':
      case 'or':
        return { kind: e.kind, items: e.items.map((x) => this.resolve(x, problems, stack)) }
      case 'not':
        return { kind: 'not', item: this.resolve(e.item, problems, stack) }
      case 'macro': {
        const tree = this.#macro(e.name, problems)
        if (!tree) return { kind: 'or', items: [] }
        if (stack.includes(e.name)) {
          problems.push(`macro '${e.name}' refers to itself (${[...stack, e.name].join(' → ')})`)
          return { kind: 'or', items: [] }
        }
        return this.resolve(tree, problems, [...stack, e.name])
      }
      case 'check': {
        const problem = fieldProblem(e.field)
        if (problem) problems.push(problem)
        if (UNSUPPORTED_OPS.has(e.op)) {
          problems.push(`unsupported operator '${e.op}' on ${e.field.name}`)
        }
        const values = e.listRef !== undefined ? this.#listRef(e.listRef, problems) : this.#values(e.values)
        return { kind: 'check', field: e.field, op: e.op, values }
      }
    }
  }

  #macro(name: string, problems: string[]): Expr | undefined {
    if (this.#macros.has(name)) return this.#macros.get(name) ?? undefined
    const def = this.loader.macros.get(name)
    if (!def) {
      const hint = FIELDS.has(name) ? ` ('${name}' is a field: compare it with an operator)` : ''
      problems.push(`unknown macro '${name}'${hint}`)
      return undefined
    }
    try {
      const tree = parseCondition(def.value)
      this.#macros.set(name, tree)
      return tree
    } catch (error) {
      if (!(error instanceof ConditionSyntaxError)) throw error
      problems.push(`macro '${name}' (${def.file}): ${error.message}`)
      this.#macros.set(name, null)
      return undefined
    }
  }

  #listRef(name: string, problems: string[]): string[] {
    if (!this.loader.lists.has(name)) {
      problems.push(`unknown list '${name}'`)
      return []
    }
    return this.#expand(name, [])
  }

  /** Bare list items naming a list become its items; quoted items are always literal. */
  #values(values: readonly Value[]): string[] {
    return values.flatMap((v) =>
      !v.quoted && this.loader.lists.has(v.text) ? this.#expand(v.text, []) : [v.text],
    )
  }

  #expand(name: string, seen: string[]): string[] {
    if (seen.includes(name)) return []
    const items = this.loader.lists.get(name)?.value ?? []
    return items.flatMap((item) =>
      this.loader.lists.has(item) ? this.#expand(item, [...seen, name]) : [item],
    )
  }
}

/** A rule's exceptions as one expression: any matching value tuple excepts the event. */
function exceptionsExpr(rule: RuleState, loader: Loader): Expr | undefined {
  const alternatives: Expr[] = []
  for (const e of rule.exceptions) {
    const bare = (v: unknown): Value => ({ text: String(v), quoted: !loader.lists.has(String(v)) })
    if (typeof e.fields === 'string') {
      const op = (typeof e.comps === 'string' ? e.comps : 'in') as Operator
      const field = parseField(e.fields)
      if (e.values.length) alternatives.push({ kind: 'check', field, op, values: e.values.map(bare) })
      continue
    }
    const fields = e.fields
    const comps = Array.isArray(e.comps) ? e.comps : fields.map(() => '=')
    for (const tuple of e.values) {
      if (!Array.isArray(tuple) || tuple.length !== fields.length) {
        loader.add(
          rule.file,
          `${rule.where}.exceptions`,
          `exception '${e.name}': each value must list one item per field`,
        )
        continue
      }
      const checks: Expr[] = fields.map((f, k) => {
        const op = (comps[k] === '==' ? '=' : comps[k]) as Operator
        const v = tuple[k]
        const isList = (LIST_OPS as readonly string[]).includes(op)
        const values = isList && Array.isArray(v) ? v.map(bare) : [bare(v)]
        return { kind: 'check', field: parseField(f), op, values }
      })
      alternatives.push({ kind: 'and', items: checks })
    }
  }
  return alternatives.length ? { kind: 'or', items: alternatives } : undefined
}

function parseField(text: string): FieldRef {
  const m = /^([^[]+)(?:\[(.*)\])?$/.exec(text.trim())
  return { name: m?.[1] ?? text, ...(m?.[2] !== undefined ? { arg: m[2] } : {}), transformers: [] }
}

/** Compares dotted versions numerically: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0)
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}
