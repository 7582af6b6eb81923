// nearMiss explains a non-match: closest selection, first failing field, expected and actual values.
import { describe, expect, it } from 'vitest'
import { auditEvent, detectionRule, execImds, secretGet, secretsList } from './helpers.js'

describe('nearMiss', () => {
  const execRule = detectionRule(`sel:
  verb: create
  objectRef.resource: pods
  objectRef.subresource: exec
condition: sel`)

  it('reports the first failing field of the closest selection (SigmaHQ exec rule vs WebSocket exec)', () => {
    expect(execRule.nearMiss!(auditEvent(execImds()))).toEqual({
      rule: 'test-rule',
      score: 2 / 3,
      field: 'verb',
      expected: "'create'",
      actual: 'get',
    })
  })

  it('is undefined when the rule matches', () => {
    expect(execRule.nearMiss!(auditEvent({ ...execImds(), verb: 'create' }))).toBeUndefined()
  })

  it('picks the closest of several selections and shows modifiers', () => {
    const rule = detectionRule(`exec:
  objectRef.subresource: exec
  requestURI|contains: [169.254.169.254, metadata.google.internal]
secrets:
  objectRef.resource: secrets
  verb: list
  user.username|startswith: 'system:serviceaccount:'
condition: exec or secrets`)
    expect(rule.nearMiss!(auditEvent(secretsList()))).toEqual({
      rule: 'test-rule',
      score: 2 / 3,
      field: 'user.username',
      expected: "startswith 'system:serviceaccount:'",
      actual: 'kubernetes-admin',
    })
    const miss = rule.nearMiss!(
      auditEvent({ ...execImds(), requestURI: '/api/v1/namespaces/t1552/pods/victim/exec?command=id' }),
    )
    expect(miss).toMatchObject({
      score: 0.5,
      field: 'requestURI',
      expected: "contains '169.254.169.254' or 'metadata.google.internal'",
    })
  })

  it('reports an absent field as undefined', () => {
    const rule = detectionRule(
      'sel:\n  objectRef.resource: secrets\n  objectRef.name: canary-db\ncondition: sel',
    )
    expect(rule.nearMiss!(auditEvent(secretsList()))).toMatchObject({
      field: 'objectRef.name',
      actual: undefined,
      score: 0.5,
    })
  })

  it('names the exclusion when a filter vetoed the match', () => {
    const rule = detectionRule(`sel:
  objectRef.resource: secrets
filter_admin:
  user.username: kubernetes-admin
condition: sel and not filter_admin`)
    expect(rule.nearMiss!(auditEvent(secretGet()))).toEqual({
      rule: 'test-rule',
      score: 0.5,
      field: 'user.username',
      expected: "not 'kubernetes-admin' (excluded by 'filter_admin')",
      actual: 'kubernetes-admin',
    })
  })
})
