// Sigma rule files → RuleSet: every YAML document is validated (all problems reported together),
// detection rules compile to closures, correlation rules to stateful matchers.
import { basename, extname } from 'node:path'
import { type Issue, ValidationError } from '../../errors.js'
import { yaml } from '../../util/yaml.js'
import type { CompiledRule, CorrelationRule, RuleSet } from '../types.js'
import { type CorrelationSpec, createMatcher, type Member, parseCorrelationSpec } from './correlation.js'
import { cachedDocuments, storeDocuments } from './doc-cache.js'
import { useEvent } from './fields.js'
import { Issues, isRecord } from './issues.js'
import { mapLogsource } from './logsource.js'
import { compileDetection } from './rule.js'

export { PREFILTER_UNSAFE_FIELDS } from './field-test.js'

interface Meta {
  id: string
  name?: string
  title: string
  level?: string
  tags: string[]
  /** Issue prefix of the document, for errors found after the first pass. */
  prefix: string
}

interface CorrelationDoc {
  meta: Meta
  spec: CorrelationSpec
}

/**
 * Parses one Sigma file (one or more YAML documents). `known` resolves correlation references to
 * rules from other files, keyed by id or name. Throws ValidationError listing every problem.
 */
export function parseSigma(
  text: string,
  file: string,
  known: ReadonlyMap<string, CompiledRule> = new Map(),
): RuleSet & { names: [string, string][] } {
  const issues = new Issues(file)
  const docs = readDocuments(text, issues)
  const rules: CompiledRule[] = []
  const correlations: CorrelationDoc[] = []
  const ids = assignIds(docs, file)
  const seen = new Set<string>()
  const ruleNames = new Map<string, string>()
  // `name → id` of documents that have both: correlations in later files may reference them by name.
  const names: [string, string][] = []
  docs.forEach((doc, i) => {
    if (typeof doc.name === 'string' && (typeof doc.id === 'string' || typeof doc.id === 'number'))
      names.push([doc.name, String(doc.id)])
    issues.prefix = docs.length > 1 ? `documents[${i}].` : ''
    const meta = readMeta(doc, ids[i]!, issues)
    if (seen.has(meta.id)) issues.add(doc.id === undefined ? 'name' : 'id', `duplicate rule id '${meta.id}'`)
    seen.add(meta.id)
    if (doc.correlation !== undefined) {
      const spec = parseCorrelationSpec(doc, issues)
      if (spec) correlations.push({ meta, spec })
    } else if (doc.detection !== undefined) {
      const rule = compileRule(doc, meta, file, issues)
      if (rule) rules.push(rule)
      if (meta.name !== undefined) ruleNames.set(meta.name, meta.id)
    } else if (doc.action === 'global') {
      issues.add('action', "rule collections ('action: global') are not supported: write complete documents")
    } else {
      issues.add('detection', 'missing detection (or correlation) section')
    }
  })
  const linked = linkCorrelations(correlations, rules, ruleNames, known, file, issues)
  if (issues.list.length > 0) throw new ValidationError(capped(issues.list))
  return {
    rules: markCorrelationOnly(rules, correlations, linked.members),
    correlations: linked.rules,
    names,
  }
}

/** Largest Sigma file accepted: real rules are a few KB; bigger ones only cost memory and time. */
export const MAX_SIGMA_BYTES = 1 << 20

/** At most MAX_ISSUES problems per file, then one line saying how many more there were. */
const MAX_ISSUES = 50
function capped(list: readonly Issue[]): Issue[] {
  if (list.length <= MAX_ISSUES) return [...list]
  const more = {
    ...list[MAX_ISSUES]!,
    path: '(file)',
    message: `… and ${list.length - MAX_ISSUES} more problems`,
  }
  return [...list.slice(0, MAX_ISSUES), more]
}

function readDocuments(text: string, issues: Issues): Record<string, unknown>[] {
  if (text.length > MAX_SIGMA_BYTES) {
    issues.add('(file)', `file is larger than ${MAX_SIGMA_BYTES} bytes`)
    return []
  }
  const cached = cachedDocuments(text)
  if (cached) return cached
  try {
    const before = issues.list.length
    const docs = loadDocuments(text, issues)
    if (issues.list.length === before) storeDocuments(text, docs)
    return docs
  } catch (error) {
    // The YAML library throws on alias bombs, unresolved aliases and nesting deep enough to exhaust
    // the stack: hostile input, reported as such.
    if (!(error instanceof ReferenceError || error instanceof RangeError)) throw error
    issues.add('(yaml)', `YAML cannot be loaded: ${error.message}`)
    return []
  }
}

function loadDocuments(text: string, issues: Issues): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  const docs = yaml().parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true })
  if (!Array.isArray(docs)) return out
  docs.forEach((doc, i) => {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0]
      issues.add(
        pos ? `${pos.line}:${pos.col}` : '(yaml)',
        `YAML syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      )
    }
    if (doc.errors.length > 0) return
    const value: unknown = doc.toJS()
    if (value === null || value === undefined) return
    if (isRecord(value)) out.push(value)
    else issues.add(docs.length > 1 ? `documents[${i}]` : '(root)', 'a Sigma document must be a map')
  })
  if (out.length === 0 && issues.list.length === 0) issues.add('(root)', 'no Sigma rule in file')
  return out
}

/** id, else name, else the file's base name (suffixed `#n` when several documents need it). */
function assignIds(docs: readonly Record<string, unknown>[], file: string): string[] {
  const stem = basename(file, extname(file))
  const anonymous = docs.filter((d) => !isId(d.id) && !isId(d.name)).length
  let n = 0
  return docs.map((d) => {
    if (isId(d.id)) return String(d.id)
    if (isId(d.name)) return String(d.name)
    n++
    return anonymous > 1 ? `${stem}#${n}` : stem
  })
}

function isId(v: unknown): v is string | number {
  return (typeof v === 'string' && v !== '') || typeof v === 'number'
}

function readMeta(doc: Record<string, unknown>, id: string, issues: Issues): Meta {
  const meta: Meta = { id, title: id, tags: [], prefix: issues.prefix }
  if (doc.title !== undefined) {
    if (typeof doc.title === 'string') meta.title = doc.title
    else issues.add('title', 'title must be a string')
  }
  if (doc.name !== undefined) {
    if (typeof doc.name === 'string') meta.name = doc.name
    else issues.add('name', 'name must be a string')
  }
  if (doc.level !== undefined) {
    if (typeof doc.level === 'string') meta.level = doc.level
    else issues.add('level', 'level must be a string')
  }
  if (doc.tags !== undefined) {
    if (Array.isArray(doc.tags) && doc.tags.every((t) => typeof t === 'string')) meta.tags = doc.tags
    else issues.add('tags', 'tags must be a list of strings')
  }
  return meta
}

function compileRule(
  doc: Record<string, unknown>,
  meta: Meta,
  file: string,
  issues: Issues,
): CompiledRule | undefined {
  const sources = mapLogsource(doc.logsource, issues)
  const detection = compileDetection(doc.detection, issues)
  if (!detection) return undefined
  const { matches, prefilter, prefilterChoices, vetoes, nearMiss } = detection
  return {
    id: meta.id,
    title: meta.title,
    file,
    language: 'sigma',
    ...(meta.level === undefined ? {} : { level: meta.level }),
    tags: meta.tags,
    ...(sources === undefined ? {} : { sources }),
    ...(prefilter === undefined ? {} : { prefilter, prefilterChoices }),
    ...(vetoes.length > 0 ? { vetoes } : {}),
    match(event) {
      useEvent(event)
      return matches()
    },
    nearMiss(event) {
      useEvent(event)
      return matches() ? undefined : nearMiss(meta.id)
    },
  }
}

// --- correlations ----------------------------------------------------------------------------------

interface Linked {
  rules: CorrelationRule[]
  /** For each correlation doc (same order), its resolved members; undefined when unresolved. */
  members: (Member[] | undefined)[]
}

function linkCorrelations(
  docs: readonly CorrelationDoc[],
  rules: readonly CompiledRule[],
  ruleNames: ReadonlyMap<string, string>,
  known: ReadonlyMap<string, CompiledRule>,
  file: string,
  issues: Issues,
): Linked {
  const localRules = new Map<string, CompiledRule>()
  for (const r of rules) localRules.set(r.id, r)
  const corrByRef = new Map<string, CorrelationDoc>()
  for (const d of docs) {
    corrByRef.set(d.meta.id, d)
    if (d.meta.name) corrByRef.set(d.meta.name, d)
  }
  const resolving = new Set<CorrelationDoc>()

  const resolve = (doc: CorrelationDoc): Member[] | undefined => {
    if (resolving.has(doc)) {
      issues.prefix = doc.meta.prefix
      issues.add('correlation.rules', `correlation '${doc.meta.id}' references itself (cycle)`)
      return undefined
    }
    resolving.add(doc)
    const members: Member[] = []
    doc.spec.rules.forEach((ref, i) => {
      const member = resolveRef(ref)
      if (member) members.push(member)
      else {
        issues.prefix = doc.meta.prefix
        issues.add(
          `correlation.rules[${i}]`,
          `unknown rule '${ref}' (not an id or name in this file or the loaded rules)`,
        )
      }
    })
    resolving.delete(doc)
    return members.length === doc.spec.rules.length ? members : undefined
  }

  const resolveRef = (ref: string): Member | undefined => {
    const nested = corrByRef.get(ref)
    if (nested) {
      const members = resolve(nested)
      if (!members) return undefined
      return {
        kind: 'correlation',
        ref,
        id: nested.meta.id,
        ...nameOf(nested.meta.name),
        spec: nested.spec,
        members,
      }
    }
    const rule = localRules.get(ref) ?? localRules.get(ruleNames.get(ref) ?? '') ?? known.get(ref)
    return rule ? { kind: 'rule', ref, id: rule.id, ...nameOf(ref === rule.id ? undefined : ref) } : undefined
  }

  const members = docs.map(resolve)
  // A correlation referenced by another is stand-alone only if a referencing one sets `generate: true`.
  const nested = new Set<string>()
  const generated = new Set<string>()
  docs.forEach((d, i) => {
    for (const m of members[i] ?? [])
      if (m.kind === 'correlation') (d.spec.generate ? generated : nested).add(m.id)
  })
  const out: CorrelationRule[] = []
  docs.forEach((d, i) => {
    const m = members[i]
    if (m && (!nested.has(d.meta.id) || generated.has(d.meta.id))) out.push(toCorrelationRule(d, m, file))
  })
  return { rules: out, members }
}

function nameOf(name: string | undefined): { name?: string } {
  return name === undefined ? {} : { name }
}

function toCorrelationRule(doc: CorrelationDoc, members: Member[], file: string): CorrelationRule {
  const onMatch = createMatcher(doc.spec, members)
  return {
    id: doc.meta.id,
    title: doc.meta.title,
    file,
    language: 'sigma',
    ...(doc.meta.level === undefined ? {} : { level: doc.meta.level }),
    tags: doc.meta.tags,
    ruleRefs: [...new Set(members.flatMap(baseIds))],
    onMatch,
  }
}

function baseIds(m: Member): string[] {
  return m.kind === 'rule' ? [m.id] : m.members.flatMap(baseIds)
}

/**
 * Spec `generate` (default false): rules referenced by a correlation are not stand-alone detections
 * unless a referencing correlation sets `generate: true`. They are still evaluated (to feed the
 * correlation) but flagged `correlationOnly`.
 */
function markCorrelationOnly(
  rules: readonly CompiledRule[],
  docs: readonly CorrelationDoc[],
  members: readonly (Member[] | undefined)[],
): CompiledRule[] {
  const consumed = new Set<string>()
  const generated = new Set<string>()
  docs.forEach((d, i) => {
    for (const id of (members[i] ?? []).flatMap(baseIds)) (d.spec.generate ? generated : consumed).add(id)
  })
  return rules.map((r) => (consumed.has(r.id) && !generated.has(r.id) ? { ...r, correlationOnly: true } : r))
}
