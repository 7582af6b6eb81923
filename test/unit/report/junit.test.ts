import { describe, expect, it } from 'vitest'
import { cdata, renderJunit, xmlAttr } from '../../../src/report/junit.js'
import { runResult } from '../../fixtures/report/run-result.js'
import { findAll, parseXml } from './xml-check.js'

function props(el: ReturnType<typeof parseXml>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of findAll(el, 'property').filter((p) => p.attrs.name !== undefined))
    out[p.attrs.name!] = p.attrs.value!
  return out
}

describe('renderJunit', () => {
  const result = runResult()
  const root = parseXml(renderJunit(result))

  it('is well-formed XML with one testsuite per scenario and one testcase per step', () => {
    expect(root.name).toBe('testsuites')
    expect(root.attrs).toEqual({
      name: `purplekind ${result.runId}`,
      tests: '12',
      failures: '5',
      errors: '0',
      time: '150.000',
    })
    const suites = findAll(root, 'testsuite')
    expect(suites.map((s) => s.attrs.name)).toEqual(['k8s-secrets', 'docker-logs', 'cloud-mocks'])
    expect(suites.map((s) => s.attrs.tests)).toEqual(['8', '2', '2'])
    expect(suites.map((s) => s.attrs.failures)).toEqual(['3', '1', '1'])
    expect(suites.map((s) => s.attrs.skipped)).toEqual(['0', '0', '1'])
    expect(findAll(root, 'testcase')).toHaveLength(result.steps.length)
  })

  it('names each testcase by scenario (classname) and step id + title', () => {
    const cases = findAll(root, 'testcase')
    expect(cases.map((c) => [c.attrs.classname, c.attrs.name])).toContainEqual([
      'k8s-secrets',
      'exec-token Read the service-account token through exec',
    ])
    for (const c of cases) expect(result.scenarios.map((s) => s.id)).toContain(c.attrs.classname)
  })

  it('has a failure exactly for the steps that missed their expectation, with verdict and explanation', () => {
    const failed = findAll(root, 'testcase').filter((c) => findAll(c, 'failure').length > 0)
    expect(findAll(root, 'failure')).toHaveLength(5)
    expect(failed.map((c) => c.attrs.name?.split(' ')[0]).sort()).toEqual(
      result.steps
        .filter((s) => !s.passed)
        .map((s) => s.step)
        .sort(),
    )
    const failure = findAll(failed[0]!, 'failure')[0]!
    expect(failure.attrs.type).toBe('LOGGED_NOT_ALERTED')
    expect(failure.attrs.message).toBe('LOGGED_NOT_ALERTED: The exec was audited but no rule matched it.')
    expect(failure.text).toContain(
      'near miss: k8s-exec-token-read (75%): field objectRef.subresource expected exec',
    )
  })

  it('records verdict, rules and latency in system-out (a strict testcase has no properties) and times each case', () => {
    const first = findAll(root, 'testcase')[0]!
    expect(findAll(first, 'properties')).toEqual([])
    expect(first.attrs.time).toBe('0.420')
    const out = findAll(first, 'system-out')[0]!.text
    expect(out).toContain('verdict: DETECTED')
    expect(out).toContain('rules fired: k8s-secrets-enumeration')
    expect(out).toContain('latency: 1.2 s (budget 5.0 s)')
    for (const s of findAll(root, 'testsuite')) expect(s.attrs.time).toMatch(/^\d+\.\d{3}$/)
    expect(props(findAll(root, 'testsuite')[0]!)).toMatchObject({ tactic: 'credential-access' })
  })

  it('marks a skipped step <skipped message=reason>, not a failure, and a step not recorded as a failure', () => {
    const cases = findAll(root, 'testcase')
    const skipped = cases.find((c) => c.attrs.name?.startsWith('imds-egress-denied'))!
    expect(findAll(skipped, 'skipped').map((x) => x.attrs.message)).toEqual([
      'the local lab lacks networkPolicy',
    ])
    expect(findAll(skipped, 'failure')).toEqual([])
    const missing = cases.find((c) => c.attrs.name?.startsWith('new-step'))!
    expect(findAll(missing, 'failure')[0]!.attrs.type).toBe('NOT_RECORDED')
  })

  it('escapes markup, quotes, CDATA terminators and characters XML forbids', () => {
    const nasty = runResult()
    const step = nasty.steps[3]!
    step.title = `<tag attr="x"> & 'quoted' \u0001 ]]> end`
    step.explanation = 'line one\nline two ]]> <![CDATA[ & more'
    step.output = 'out ]]> ]]]]> \u0000\uD800'
    const doc = parseXml(renderJunit(nasty))
    const testcase = findAll(doc, 'testcase')[3]!
    expect(testcase.attrs.name).toBe(`exec-token <tag attr="x"> & 'quoted' \uFFFD ]]> end`)
    const failure = findAll(testcase, 'failure')[0]!
    expect(failure.attrs.message).toBe('LOGGED_NOT_ALERTED: line one\nline two ]]> <![CDATA[ & more')
    expect(findAll(testcase, 'system-out')[0]!.text).toContain('out ]]> ]]]]> \uFFFD\uFFFD')
  })

  it('exposes its escapers for attribute values and CDATA', () => {
    expect(xmlAttr('a<b>&"\'\n')).toBe('a&lt;b&gt;&amp;&quot;&apos;&#10;')
    expect(cdata('x]]>y')).toBe('<![CDATA[x]]]]><![CDATA[>y]]>')
  })

  it('is checked by a parser that rejects malformed XML', () => {
    for (const bad of [
      '<a><b></a>',
      '<a>&foo;</a>',
      '<a x="1" x="2"/>',
      '<a>]]></a>',
      '<a>x & y</a>',
      '<a/><b/>',
      '<a x=1/>',
    ]) {
      expect(() => parseXml(bad), bad).toThrow(/XML error/)
    }
  })
})
