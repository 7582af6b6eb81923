import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildDomain, type Domain, type LintReport, lintRules } from '../../../../src/detection/lint/index.js'

const RULES = join(import.meta.dirname, 'rules')
const RECORDING = join(import.meta.dirname, '../../../fixtures/recordings/t1552.007-local')

describe('can this rule ever fire? (over the t1552.007 recording)', () => {
  let domain: Domain
  let report: LintReport
  const finding = (rule: string) => report.findings.find((f) => f.rule === rule || f.title === rule)

  beforeAll(async () => {
    domain = await buildDomain([RECORDING])
    report = await lintRules([RULES], domain)
  })

  it('checks every loaded rule, of every language', () => {
    expect(report.checked).toBe(9)
  })

  it('exec requiring verb create is DEAD, with the verbs the recordings saw for exec', () => {
    expect(finding('Exec Into Pod Via Create Verb')).toMatchObject({
      language: 'sigma',
      status: 'DEAD',
      reasons: [
        'no recorded event has verb=create with objectRef.subresource=exec; observed verbs for exec: get',
      ],
    })
    expect(finding('SPL exec via create')?.reasons).toEqual([
      'no recorded event has verb=create with objectRef.subresource=exec; observed verbs for exec: get',
    ])
    expect(finding('Exec By Create On Start')).toMatchObject({
      language: 'falco',
      reasons: [
        'no recorded event has verb=create with objectRef.subresource=exec; observed verbs for exec: get',
      ],
    })
  })

  it('a stage the policy never logs for the subresource is DEAD too', () => {
    expect(finding('Exec On Received Stage')?.reasons).toEqual([
      'no recorded event has stage=RequestReceived with objectRef.subresource=exec; observed stages for exec: ResponseComplete, ResponseStarted',
    ])
  })

  it('a top-level field audit events never have is DEAD', () => {
    const f = finding('Pod With HostPath Mount')
    expect(f?.status).toBe('DEAD')
    expect(f?.reasons[0]).toMatch(
      /^k8s-audit events have no field 'hostPath'; its top-level fields are kind, apiVersion, level, /,
    )
  })

  it('a value outside the field’s domain is DEAD', () => {
    expect(finding('Secret Enumeration Allowed')?.reasons).toEqual([
      'responseStatus.code: "ALLOW": responseStatus.code is an HTTP status code, so \'ALLOW\' can never match',
    ])
  })

  it('rules that can fire get no finding', () => {
    for (const rule of ['Secret Enumeration', 'Exec Into Pod Any Verb', 'Exec Any Verb On Start']) {
      expect(finding(rule), rule).toBeUndefined()
    }
    expect(report.findings).toHaveLength(6)
  })

  it('without recordings, only schema facts are judged (the exec verb is then unknown)', async () => {
    const bare = await lintRules([RULES], await buildDomain([]))
    expect(bare.findings.map((f) => f.title).sort()).toEqual([
      'Pod With HostPath Mount',
      'Secret Enumeration Allowed',
    ])
  })

  it('learns nested paths from recordings and points at them', () => {
    expect(domain.seenPaths.get('k8s-audit')?.has('objectRef.subresource')).toBe(true)
    expect(domain.bySubresource.get('exec')?.values.get('verb')).toEqual(new Set(['get']))
  })
})
