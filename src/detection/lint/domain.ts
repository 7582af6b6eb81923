// What the lab's telemetry can contain: the audit.k8s.io/v1 Event schema (which fields exist, and the
// closed value sets some of them have), the fields normalizers add, and what recorded runs actually
// logged — every field path and, per subresource, the verbs and stages the apiserver wrote.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SOURCES, SOURCETYPES, type SourceName } from '../../telemetry/event.js'
import { DERIVED_FIELDS, parseLine } from '../../telemetry/normalize.js'

/** A schema node: a closed object (its keys only), an open subtree (any keys), or a leaf value. */
type SchemaNode =
  | { kind: 'object'; children: Record<string, SchemaNode> }
  | { kind: 'open'; known?: Record<string, SchemaNode> }
  | { kind: 'leaf'; values?: readonly string[]; describe?: string }

const leaf = (values?: readonly string[], describe?: string): SchemaNode => ({
  kind: 'leaf',
  ...(values ? { values } : {}),
  ...(describe ? { describe } : {}),
})
const obj = (children: Record<string, SchemaNode>): SchemaNode => ({ kind: 'object', children })
const OPEN: SchemaNode = { kind: 'open' }
const STR = leaf()

const HTTP_CODES = Array.from({ length: 500 }, (_, i) => String(100 + i))
const USER_INFO = obj({ username: STR, uid: STR, groups: STR, extra: OPEN })

/** audit.k8s.io/v1 Event (kubernetes staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go). */
const AUDIT_EVENT = obj({
  kind: leaf(['Event']),
  apiVersion: leaf(['audit.k8s.io/v1']),
  level: leaf(['None', 'Metadata', 'Request', 'RequestResponse']),
  auditID: STR,
  stage: leaf(['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic']),
  requestURI: STR,
  // Resource verbs, plus the lower-cased HTTP method the apiserver logs for non-resource URLs.
  verb: leaf([
    'get',
    'list',
    'watch',
    'create',
    'update',
    'patch',
    'delete',
    'deletecollection',
    'post',
    'put',
    'head',
    'options',
  ]),
  user: USER_INFO,
  impersonatedUser: USER_INFO,
  sourceIPs: STR,
  userAgent: STR,
  objectRef: obj({
    resource: STR,
    namespace: STR,
    name: STR,
    uid: STR,
    apiGroup: STR,
    apiVersion: STR,
    resourceVersion: STR,
    subresource: STR,
  }),
  responseStatus: obj({
    metadata: OPEN,
    status: leaf(['Success', 'Failure']),
    message: STR,
    reason: STR,
    details: OPEN,
    code: leaf(HTTP_CODES, 'an HTTP status code'),
  }),
  requestObject: OPEN,
  responseObject: OPEN,
  requestReceivedTimestamp: STR,
  stageTimestamp: STR,
  annotations: { kind: 'open', known: { 'authorization.k8s.io/decision': leaf(['allow', 'forbid']) } },
  authenticationMetadata: OPEN,
})

const ENVELOPE = ['source', 'sourcetype', 'index', '_time']

/** Per subresource: how many recorded events, and the verbs and stages they were logged with. */
export interface Observed {
  count: number
  values: Map<string, Set<string>>
}

export interface Domain {
  /** Recording directories the observations come from. */
  recordings: string[]
  /** Field paths seen per source in the recordings (raw paths and derived names). */
  seenPaths: Map<SourceName, Set<string>>
  /** k8s-audit: `objectRef.subresource` value → what events with it carried. */
  bySubresource: Map<string, Observed>
}

/** Fields whose recorded values are compared per subresource (they depend on the client and policy). */
export const DEPENDENT_FIELDS = ['verb', 'stage'] as const

export async function buildDomain(recordings: readonly string[]): Promise<Domain> {
  const domain: Domain = { recordings: [...recordings], seenPaths: new Map(), bySubresource: new Map() }
  for (const dir of recordings) {
    for (const source of SOURCES) {
      const file = join(dir, 'telemetry', `${source}.jsonl`)
      if (!existsSync(file)) continue
      const paths = domain.seenPaths.get(source) ?? new Set<string>()
      domain.seenPaths.set(source, paths)
      for (const [i, line] of (await readFile(file, 'utf8')).split('\n').entries()) {
        for (const event of parseLine(line, source, { origin: { file, line: i + 1 } })) {
          collectPaths(event.raw, '', paths, 0)
          for (const key of Object.keys(event.derived)) paths.add(key)
          if (source === 'k8s-audit') observe(domain, event.raw)
        }
      }
    }
  }
  return domain
}

function collectPaths(v: unknown, prefix: string, out: Set<string>, depth: number) {
  if (depth > 32 || v === null || typeof v !== 'object') return
  const items = Array.isArray(v) ? v : [v]
  for (const item of items) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue
    for (const [k, child] of Object.entries(item)) {
      const path = prefix ? `${prefix}.${k}` : k
      out.add(path)
      collectPaths(child, path, out, depth + 1)
    }
  }
}

function observe(domain: Domain, raw: Record<string, unknown>) {
  const ref = raw.objectRef as Record<string, unknown> | undefined
  const sub = typeof ref?.subresource === 'string' ? ref.subresource : undefined
  if (sub === undefined) return
  const seen = domain.bySubresource.get(sub) ?? { count: 0, values: new Map() }
  domain.bySubresource.set(sub, seen)
  seen.count++
  for (const field of DEPENDENT_FIELDS) {
    const v = raw[field]
    if (typeof v !== 'string') continue
    const set = seen.values.get(field) ?? new Set<string>()
    set.add(v)
    seen.values.set(field, set)
  }
}

export type FieldShape =
  | { kind: 'absent' }
  | { kind: 'present'; values?: readonly string[]; describe?: string }
  /** Not known either way (sources without a schema). */
  | { kind: 'unknown' }

/** Whether `field` can exist on events of `source`, and its closed value set when it has one. */
export function fieldShape(domain: Domain, source: SourceName, field: string): FieldShape {
  if (ENVELOPE.includes(field)) {
    return field === 'sourcetype' ? { kind: 'present', values: [SOURCETYPES[source]] } : { kind: 'present' }
  }
  if (DERIVED_FIELDS.has(field) || domain.seenPaths.get(source)?.has(field)) {
    const node = source === 'k8s-audit' ? schemaNode(field) : undefined
    return node?.kind === 'leaf' && node.values ? { kind: 'present', ...leafInfo(node) } : { kind: 'present' }
  }
  if (source !== 'k8s-audit') return { kind: 'unknown' }
  const node = schemaNode(field)
  if (!node) return { kind: 'absent' }
  return node.kind === 'leaf' ? { kind: 'present', ...leafInfo(node) } : { kind: 'present' }
}

function leafInfo(node: Extract<SchemaNode, { kind: 'leaf' }>) {
  return {
    ...(node.values ? { values: node.values } : {}),
    ...(node.describe ? { describe: node.describe } : {}),
  }
}

/** The audit schema node at a dotted path; keys under open subtrees may themselves contain dots. */
function schemaNode(path: string): SchemaNode | undefined {
  let node: SchemaNode = AUDIT_EVENT
  let rest = path
  while (rest !== '') {
    if (node.kind === 'leaf') return undefined
    if (node.kind === 'open') {
      const known = node.known?.[rest]
      return known ?? OPEN
    }
    const dot = rest.indexOf('.')
    const key = dot === -1 ? rest : rest.slice(0, dot)
    const child: SchemaNode | undefined = node.children[key]
    if (!child) return undefined
    node = child
    rest = dot === -1 ? '' : rest.slice(dot + 1)
  }
  return node
}

/** The schema's top-level audit fields (for messages). */
export function auditTopLevelFields(): string[] {
  return AUDIT_EVENT.kind === 'object' ? Object.keys(AUDIT_EVENT.children) : []
}
