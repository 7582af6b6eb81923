import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type FalcoFile, loadFalcoRules } from '../../../../src/detection/falco/index.js'
import type { CompiledRule } from '../../../../src/detection/types.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'
import { normalize } from '../../../../src/telemetry/normalize.js'

export const RULES_DIR = join(import.meta.dirname, 'rules')

export function fixture(name: string): FalcoFile {
  const path = join(RULES_DIR, name)
  return { path, text: readFileSync(path, 'utf8') }
}

/** Loads inline Falco YAML as one file `inline.yaml`. */
export function load(text: string, path = 'inline.yaml') {
  return loadFalcoRules([{ path, text }])
}

export function rule(text: string, name?: string): CompiledRule {
  const { rules, issues } = load(text)
  if (issues.length) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('\n'))
  const found = name ? rules.find((r) => r.id === name) : rules[0]
  if (!found) throw new Error(`no rule ${name}`)
  return found
}

/** A one-rule file around `condition` (source k8s_audit). */
export function conditionRule(condition: string, extra = ''): CompiledRule {
  return rule(`${extra}
- rule: R
  desc: d
  condition: ${JSON.stringify(condition)}
  output: out
  priority: WARNING
  source: k8s_audit
`)
}

/** An audit event with sensible defaults; `over` replaces top-level keys. */
export function audit(over: Record<string, unknown> = {}): TelemetryEvent {
  const record = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: 'a1',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/purple-app/secrets/db',
    verb: 'get',
    user: { username: 'mallory@example.com', groups: ['developers', 'system:authenticated'] },
    sourceIPs: ['127.0.0.1'],
    userAgent: 'kubectl/v1.36.3 (linux/amd64) kubernetes/0000000',
    objectRef: { resource: 'secrets', namespace: 'purple-app', name: 'db', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-11-27T08:48:26.195696Z',
    stageTimestamp: '2026-11-27T08:48:26.197767Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
    ...over,
  }
  const [event] = normalize('k8s-audit', record)
  return event!
}

export function execEvent(stage: string, query: string, over: Record<string, unknown> = {}): TelemetryEvent {
  return audit({
    stage,
    verb: 'get',
    requestURI: `/api/v1/namespaces/purple-app/pods/web-0/exec?${query}`,
    objectRef: {
      resource: 'pods',
      namespace: 'purple-app',
      name: 'web-0',
      subresource: 'exec',
      apiVersion: 'v1',
    },
    responseStatus: { metadata: {}, code: 101 },
    ...over,
  })
}
