import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type AuditPolicy,
  coverageGaps,
  loadPolicy,
  policyLevel,
  validatePolicy,
} from '../../../../src/lab/existing/policy.js'

const req = (verb: string, resource: string, subresource?: string, user = 'alice') => ({
  user,
  groups: ['system:authenticated'],
  verb,
  resource: { group: '', resource, namespace: 'app', ...(subresource ? { subresource } : {}) },
})

describe('policyLevel', () => {
  it('applies the first matching rule, None when nothing matches', () => {
    const policy: AuditPolicy = {
      rules: [
        { level: 'None', users: ['system:kube-proxy'] },
        { level: 'Request', resources: [{ group: '', resources: ['pods/exec'] }] },
        { level: 'Metadata', resources: [{ group: '', resources: ['secrets'] }], namespaces: ['app'] },
      ],
    }
    expect(policyLevel(policy, req('get', 'pods', 'exec'))).toBe('Request')
    expect(policyLevel(policy, req('get', 'secrets'))).toBe('Metadata')
    expect(policyLevel(policy, req('get', 'secrets', undefined, 'system:kube-proxy'))).toBe('None')
    expect(policyLevel(policy, req('get', 'configmaps'))).toBe('None')
    expect(
      policyLevel(policy, {
        ...req('get', 'secrets'),
        resource: { group: '', resource: 'secrets', namespace: 'kube-system' },
      }),
    ).toBe('None')
  })

  it('matches subresources only through exact, resource/* or */sub names', () => {
    const level = (resources: string[]) =>
      policyLevel(
        { rules: [{ level: 'Metadata', resources: [{ group: '', resources }] }] },
        req('get', 'pods', 'exec'),
      )
    expect(level(['pods'])).toBe('None') // "pods" does not cover pods/exec
    expect(level(['pods/*'])).toBe('Metadata')
    expect(level(['*/exec'])).toBe('Metadata')
    expect(level(['*'])).toBe('Metadata')
  })

  it('keeps nonResourceURL rules away from resource requests', () => {
    const policy: AuditPolicy = {
      rules: [{ level: 'None', nonResourceURLs: ['/healthz*'] }, { level: 'Metadata' }],
    }
    expect(policyLevel(policy, req('get', 'secrets'))).toBe('Metadata')
    expect(policyLevel(policy, { user: 'u', groups: [], verb: 'get', path: '/healthz/etcd' })).toBe('None')
  })
})

describe('coverageGaps', () => {
  it('finds no gap in the shipped lab/audit-policy.yaml', () => {
    expect(coverageGaps(loadPolicy(join(import.meta.dirname, '../../../../lab/audit-policy.yaml')))).toEqual(
      [],
    )
  })

  it('names each procedure a policy would not log', () => {
    const policy: AuditPolicy = {
      rules: [
        { level: 'None', resources: [{ group: '', resources: ['pods/exec', 'pods/attach'] }] },
        { level: 'Metadata' },
      ],
    }
    expect(coverageGaps(policy)).toEqual([
      'get pods/exec is logged at None (needs at least Metadata)',
      'create pods/exec is logged at None (needs at least Metadata)',
    ])
  })
})

describe('validatePolicy', () => {
  it('reports the file and the field path', () => {
    expect(() => validatePolicy('p.yaml', { kind: 'ConfigMap' })).toThrow('p.yaml:kind: not an audit Policy')
    expect(() => validatePolicy('p.yaml', { kind: 'Policy', rules: [] })).toThrow(
      'p.yaml:rules: must be a non-empty list',
    )
    expect(() =>
      validatePolicy('p.yaml', { kind: 'Policy', rules: [{ level: 'Metadata' }, { level: 'Loud' }] }),
    ).toThrow(/p\.yaml:rules\[1\]\.level: must be one of None, Metadata/)
  })
})
