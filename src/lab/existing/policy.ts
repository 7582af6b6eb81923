// Static check of an apiserver audit policy (audit.k8s.io/v1 Policy): which level would the apiserver
// log a given request at? First matching rule wins; no matching rule means None.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { PurpleError } from '../../errors.js'

export const AUDIT_LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const
export type AuditLevel = (typeof AUDIT_LEVELS)[number]

export interface PolicyRule {
  level: AuditLevel
  users?: string[]
  userGroups?: string[]
  verbs?: string[]
  resources?: { group?: string; resources?: string[]; resourceNames?: string[] }[]
  namespaces?: string[]
  nonResourceURLs?: string[]
}

export interface AuditPolicy {
  rules: PolicyRule[]
}

export interface AuditRequest {
  user: string
  groups: string[]
  verb: string
  resource?: { group: string; resource: string; subresource?: string; namespace?: string; name?: string }
  path?: string
}

/** The requests the T1552.007 procedures make, and the minimum level each must be logged at. */
export const REQUIRED_COVERAGE: readonly { what: string; request: AuditRequest; min: AuditLevel }[] = [
  ...(['get', 'list'] as const).map((verb) => ({
    what: `${verb} secrets`,
    request: probeRequest(verb, 'secrets'),
    min: 'Metadata' as const,
  })),
  // `kubectl exec` is a GET upgraded to a stream (audit verb "get" on 1.30+ clients, "create" before).
  ...(['get', 'create'] as const).map((verb) => ({
    what: `${verb} pods/exec`,
    request: probeRequest(verb, 'pods', 'exec'),
    min: 'Metadata' as const,
  })),
]

function probeRequest(verb: string, resource: string, subresource?: string): AuditRequest {
  return {
    user: 'purplekind-preflight',
    groups: ['system:authenticated'],
    verb,
    resource: {
      group: '',
      resource,
      namespace: 'purplekind-preflight',
      ...(subresource ? { subresource } : {}),
    },
  }
}

export function loadPolicy(file: string): AuditPolicy {
  let doc: unknown
  try {
    doc = parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new PurpleError(
      'PURPLE_PREFLIGHT_FAILED',
      `${file}: cannot read the audit policy: ${(cause as Error).message}`,
      {
        cause,
      },
    )
  }
  return validatePolicy(file, doc)
}

export function validatePolicy(file: string, doc: unknown): AuditPolicy {
  const fail = (path: string, message: string) =>
    new PurpleError('PURPLE_PREFLIGHT_FAILED', `${file}:${path}: ${message}`, {
      hint: 'pass the policy file given to the apiserver as --audit-policy-file',
    })
  const policy = doc as { kind?: unknown; rules?: unknown }
  if (typeof doc !== 'object' || doc === null || policy.kind !== 'Policy')
    throw fail('kind', 'not an audit Policy')
  if (!Array.isArray(policy.rules) || policy.rules.length === 0)
    throw fail('rules', 'must be a non-empty list')
  policy.rules.forEach((rule: { level?: unknown }, i) => {
    if (!AUDIT_LEVELS.includes(rule?.level as AuditLevel)) {
      throw fail(`rules[${i}].level`, `must be one of ${AUDIT_LEVELS.join(', ')}`)
    }
  })
  return { rules: policy.rules as PolicyRule[] }
}

/** The level the apiserver would log `request` at under `policy`. */
export function policyLevel(policy: AuditPolicy, request: AuditRequest): AuditLevel {
  return policy.rules.find((rule) => ruleMatches(rule, request))?.level ?? 'None'
}

function ruleMatches(rule: PolicyRule, req: AuditRequest): boolean {
  if (rule.users?.length && !rule.users.includes(req.user)) return false
  if (rule.userGroups?.length && !rule.userGroups.some((g) => req.groups.includes(g))) return false
  if (rule.verbs?.length && !rule.verbs.includes(req.verb) && !rule.verbs.includes('*')) return false
  const hasResources = Boolean(rule.resources?.length)
  const hasUrls = Boolean(rule.nonResourceURLs?.length)
  if (!hasResources && !hasUrls) return namespaceMatches(rule, req)
  if (req.resource) return hasResources && namespaceMatches(rule, req) && resourceMatches(rule, req.resource)
  return hasUrls && (rule.nonResourceURLs ?? []).some((u) => urlMatches(u, req.path ?? ''))
}

function namespaceMatches(rule: PolicyRule, req: AuditRequest): boolean {
  if (!rule.namespaces?.length) return true
  return req.resource !== undefined && rule.namespaces.includes(req.resource.namespace ?? '')
}

function resourceMatches(rule: PolicyRule, r: NonNullable<AuditRequest['resource']>): boolean {
  const full = r.subresource ? `${r.resource}/${r.subresource}` : r.resource
  return (rule.resources ?? []).some((gr) => {
    if ((gr.group ?? '') !== r.group && gr.group !== '*') return false
    if (gr.resourceNames?.length && !gr.resourceNames.includes(r.name ?? '')) return false
    if (!gr.resources?.length) return true
    // '*' = everything; 'pods/*' = every pods subresource; '*/exec' = every exec subresource.
    const sub = r.subresource
    return gr.resources.some(
      (name) =>
        name === '*' ||
        name === full ||
        (sub !== undefined && (name === `*/${sub}` || name === `${r.resource}/*`)),
    )
  })
}

function urlMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path
}

/** Human-readable gaps: requests the policy logs below the level the procedures need. */
export function coverageGaps(policy: AuditPolicy): string[] {
  const rank = (l: AuditLevel) => AUDIT_LEVELS.indexOf(l)
  return REQUIRED_COVERAGE.flatMap(({ what, request, min }) => {
    const level = policyLevel(policy, request)
    return rank(level) < rank(min) ? [`${what} is logged at ${level} (needs at least ${min})`] : []
  })
}
