// Sigma detections, SPL searches and Falco conditions → Formula. Read-only use of each language's own
// parser, so the check sees the rule exactly as the engine does.
import { parseAllDocuments } from 'yaml'
import type { Resolved } from '../falco/index.js'
import { type Condition, parseCondition } from '../sigma/condition.js'
import type { SplNode } from '../spl/ast.js'
import { ANY, atom, type Formula, literalPattern } from './formula.js'

// ---- Sigma ----

/** Formulas of a Sigma file's detection documents, in document order (the order parseSigma compiles them). */
export function sigmaFormulas(text: string): Formula[] {
  const out: Formula[] = []
  for (const doc of parseAllDocuments(text)) {
    const value: unknown = doc.errors.length === 0 ? doc.toJS() : undefined
    if (!isRecord(value) || !isRecord(value.detection) || value.correlation !== undefined) continue
    out.push(sigmaDetection(value.detection))
  }
  return out
}

function sigmaDetection(detection: Record<string, unknown>): Formula {
  const selections = new Map<string, Formula>()
  for (const [name, body] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue
    selections.set(name, sigmaSelection(body))
  }
  const conditions = Array.isArray(detection.condition) ? detection.condition : [detection.condition]
  const items = conditions.map((c) => {
    try {
      return sigmaCondition(parseCondition(String(c), [...selections.keys()]), selections)
    } catch {
      return ANY
    }
  })
  return items.length === 1 ? items[0]! : { kind: 'or', items }
}

function sigmaCondition(c: Condition, selections: ReadonlyMap<string, Formula>): Formula {
  switch (c.kind) {
    case 'ref':
      return selections.get(c.name) ?? ANY
    case 'and':
    case 'or':
      return { kind: c.kind, items: c.items.map((i) => sigmaCondition(i, selections)) }
    case 'not':
      return ANY
    case 'of': {
      const items = c.names.map((n) => selections.get(n) ?? ANY)
      // `all of` needs every one; `N of` (N < all) is judged as "any one" (never over-claims DEAD).
      return { kind: c.min >= c.names.length ? 'and' : 'or', items }
    }
  }
}

function sigmaSelection(body: unknown): Formula {
  if (Array.isArray(body)) {
    if (body.every(isRecord)) return { kind: 'or', items: body.map(sigmaSelection) }
    return ANY // keyword list: matched against the raw text
  }
  if (!isRecord(body)) return ANY
  return { kind: 'and', items: Object.entries(body).map(([key, values]) => sigmaField(key, values)) }
}

const OPAQUE_MODIFIERS = new Set([
  're',
  'cidr',
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'utf16',
  'wide',
  'windash',
  'gt',
  'gte',
  'lt',
  'lte',
  'fieldref',
  'expand',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
])

function sigmaField(key: string, raw: unknown): Formula {
  const [field = '', ...modifiers] = key.split('|')
  if (field === '') return ANY
  const values = Array.isArray(raw) ? raw : [raw]
  const text = `${key}: ${JSON.stringify(raw)}`
  if (modifiers.includes('exists')) return values[0] === true ? atom(field, 'exists', [], true, text) : ANY
  if (values.some((v) => v === null)) return ANY // `null` means the field is absent
  if (modifiers.some((m) => OPAQUE_MODIFIERS.has(m))) return atom(field, 'opaque', [], true, text)
  const cased = modifiers.includes('cased')
  const shape = (v: unknown): string => {
    const s = typeof v === 'string' ? sigmaPattern(v) : literalPattern(String(v))
    if (modifiers.includes('contains')) return `*${s}*`
    if (modifiers.includes('startswith')) return `${s}*`
    if (modifiers.includes('endswith')) return `*${s}`
    return s
  }
  if (modifiers.includes('all')) {
    return { kind: 'and', items: values.map((v) => atom(field, 'glob', [shape(v)], cased, text)) }
  }
  return atom(field, 'glob', values.map(shape), cased, text)
}

/** Sigma values: `*` and `?` are wildcards, `\` escapes; anything else (e.g. `[`) is literal. */
function sigmaPattern(v: string): string {
  return v.replace(/\\([*?\\])|(\[)/g, (_m, escaped: string | undefined) =>
    escaped ? `\\${escaped}` : '\\[',
  )
}

// ---- SPL ----

export function splFormula(node: SplNode): Formula {
  switch (node.kind) {
    case 'and':
    case 'or':
      return { kind: node.kind, items: node.children.map(splFormula) }
    case 'not':
    case 'keyword':
      return ANY
    case 'in':
      return atom(
        node.field,
        'glob',
        node.values.map((v) => splPattern(v.text)),
        false,
        describeSpl(node),
      )
    case 'compare':
      if (node.op === '!=') return ANY
      if (node.op !== '=') return atom(node.field, 'opaque', [], false, describeSpl(node))
      return atom(node.field, 'glob', [splPattern(node.value.text)], false, describeSpl(node))
  }
}

function describeSpl(node: Extract<SplNode, { kind: 'in' | 'compare' }>): string {
  return node.kind === 'in'
    ? `${node.field} IN (${node.values.map((v) => v.text).join(', ')})`
    : `${node.field}${node.op}${node.value.text}`
}

/** SPL: only `*` is a wildcard. */
function splPattern(text: string): string {
  return text.replace(/[\\?[]/g, (c) => `\\${c}`)
}

// ---- Falco ----

/** The audit-event path a `ka.*`/`jevt.*` field reads, when it reads exactly one. */
const FALCO_PATHS: Record<string, string> = {
  'ka.auditid': 'auditID',
  'ka.stage': 'stage',
  'ka.verb': 'verb',
  'ka.uri': 'requestURI',
  'ka.useragent': 'userAgent',
  'ka.user.name': 'user.username',
  'ka.user.groups': 'user.groups',
  'ka.impuser.name': 'impersonatedUser.username',
  'ka.target.name': 'objectRef.name',
  'ka.target.namespace': 'objectRef.namespace',
  'ka.target.resource': 'objectRef.resource',
  'ka.target.subresource': 'objectRef.subresource',
  'ka.response.code': 'responseStatus.code',
  'ka.response.reason': 'responseStatus.reason',
  'ka.auth.decision': 'annotations.authorization.k8s.io/decision',
  'ka.auth.reason': 'annotations.authorization.k8s.io/reason',
}

function falcoPath(name: string, arg: string | undefined): string | undefined {
  if ((name === 'jevt.value' || name === 'json.value') && arg?.startsWith('/')) {
    const keys = arg.slice(1).split('/')
    if (keys.some((k) => /^\d+$/.test(k) || k === '')) return undefined
    return keys.map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~')).join('.')
  }
  return FALCO_PATHS[name]
}

export function falcoFormula(e: Resolved): Formula {
  switch (e.kind) {
    case 'and':
    case 'or':
      return { kind: e.kind, items: e.items.map(falcoFormula) }
    case 'not':
      return ANY
    case 'check': {
      const path = falcoPath(e.field.name, e.field.arg)
      if (!path || e.field.transformers.length) return ANY
      const text =
        `${e.field.name}${e.field.arg !== undefined ? `[${e.field.arg}]` : ''} ${e.op} ${e.values.join(', ')}`.trim()
      switch (e.op) {
        case 'exists':
          return atom(path, 'exists', [], true, text)
        case '=':
        case 'in':
        case 'intersects':
          return atom(path, 'glob', e.values.map(literalPattern), true, text)
        case 'contains':
          return atom(path, 'glob', [`*${literalPattern(e.values[0] ?? '')}*`], true, text)
        case 'icontains':
          return atom(path, 'glob', [`*${literalPattern(e.values[0] ?? '')}*`], false, text)
        case 'startswith':
          return atom(path, 'glob', [`${literalPattern(e.values[0] ?? '')}*`], true, text)
        case 'endswith':
          return atom(path, 'glob', [`*${literalPattern(e.values[0] ?? '')}`], true, text)
        case 'glob':
          return atom(path, 'glob', [e.values[0] ?? ''], true, text)
        case 'iglob':
          return atom(path, 'glob', [e.values[0] ?? ''], false, text)
        case '!=':
          return ANY
        default:
          return atom(path, 'opaque', [], true, text)
      }
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
