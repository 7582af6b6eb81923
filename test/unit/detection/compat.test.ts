// Issue 11: the bugs and incompatibilities found against pySigma (and its Splunk backend), each pinned.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Engine } from '../../../src/detection/engine.js'
import { loadRules } from '../../../src/detection/load-rules.js'
import { windash } from '../../../src/detection/sigma/encode.js'
import { parseSigma } from '../../../src/detection/sigma/index.js'
import { formatIssue, ValidationError } from '../../../src/errors.js'
import { auditEvent, detectionRule, secretsList } from './sigma/helpers.js'
import { audit, rule, splError } from './spl/helpers.js'

describe('SPL empty values match only empty values', () => {
  const empty = audit({ verb: 'get', userAgent: '' })
  const full = audit({ verb: 'get', userAgent: 'kubectl/v1.35.0' })
  it('field=""', () => {
    expect(rule('userAgent=""').match(empty)).toBe(true)
    expect(rule('userAgent=""').match(full)).toBe(false)
    expect(rule('userAgent!=""').match(full)).toBe(true)
    expect(rule('userAgent!=""').match(empty)).toBe(false)
  })
  it('IN ("", …)', () => {
    expect(rule('userAgent IN ("", "curl*")').match(empty)).toBe(true)
    expect(rule('userAgent IN ("", "curl*")').match(full)).toBe(false)
    expect(rule('userAgent IN ("", "kubectl*")').match(full)).toBe(true)
  })
})

describe('Sigma windash makes every permutation', () => {
  it('mixes dash characters across flags', () => {
    const variants = windash('cmd -s -i x')!
    expect(variants).toHaveLength(25)
    expect(variants).toContain('cmd -s /i x')
    expect(variants).toContain('cmd \u2015s \u2013i x')
    expect(new Set(variants).size).toBe(25)
    expect(windash('no flags')).toEqual(['no flags'])
  })
  it('matches a command line that mixes `-s /i`', () => {
    const r = detectionRule("sel:\n  requestObject.cmd|windash|contains: ' -s -i '\ncondition: sel")
    const mixed = auditEvent({ ...secretsList(), requestObject: { cmd: 'psexec -s /i cmd' } })
    const other = auditEvent({ ...secretsList(), requestObject: { cmd: 'psexec -s -x cmd' } })
    expect(r.match(mixed)).toBe(true)
    expect(r.match(other)).toBe(false)
  })
  it('refuses a windash value with more flags than it can expand', () => {
    expect(() =>
      detectionRule("sel:\n  cmd|windash|contains: ' -a -b -c -d -e -f '\ncondition: sel"),
    ).toThrow("'windash' value has more than 5 flags")
  })
})

describe('Sigma re uses PCRE dot semantics', () => {
  const r = detectionRule("sel:\n  userAgent|re: '^a.c$'\ncondition: sel")
  it.each([
    ['a\rc', true],
    ['a\u2028c', true],
    ['a\u2029c', true],
    ['a\nc', false],
  ])('%j → %s', (ua, want) => {
    expect(r.match(auditEvent({ ...secretsList(), userAgent: ua }))).toBe(want)
  })
})

describe('a rule for another product does not run on our sources', () => {
  const windows = `title: w\nid: win\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    verb: list\n  condition: sel\n`
  it('product: windows is applied to no source (k8s audit, docker)', () => {
    const set = parseSigma(windows, 'w.yml')
    expect(set.rules[0]!.sources).toEqual([])
    const engine = new Engine(set)
    const line = JSON.stringify({ ...secretsList(), stageTimestamp: '2026-01-01T00:00:00Z' })
    expect(engine.evaluateLine(line, 'k8s-audit', { file: 'e.jsonl', line: 1 })).toEqual([])
    // The same detection without the foreign logsource fires on that line.
    const anySource = parseSigma(windows.replace(/logsource:.*\n/, ''), 'w.yml')
    expect(new Engine(anySource).evaluateLine(line, 'k8s-audit', { file: 'e.jsonl', line: 1 })).toHaveLength(
      1,
    )
  })
})

describe('SPL quoted field names and CIDR values (as pySigma’s Splunk backend writes them)', () => {
  const event = audit({ verb: 'get', 'c-useragent': 'curl/8.5', sourceIPs: ['10.1.2.3', 'fd00::7'] })
  it('"field"=value and "field" IN (…)', () => {
    expect(rule('"c-useragent"="curl*"').match(event)).toBe(true)
    expect(rule('"c-useragent"="wget*"').match(event)).toBe(false)
    expect(rule('"c-useragent" IN ("wget*", "curl*")').match(event)).toBe(true)
    expect(rule('"verb"=get "c-useragent"!="wget*"').match(event)).toBe(true)
  })
  it('CIDR values match addresses in the network', () => {
    expect(rule('sourceIPs="10.0.0.0/8"').match(event)).toBe(true)
    expect(rule('sourceIPs=10.0.0.0/8').match(event)).toBe(true)
    expect(rule('sourceIPs="11.0.0.0/8"').match(event)).toBe(false)
    expect(rule('sourceIPs="fd00::/8"').match(event)).toBe(true)
    expect(rule('sourceIPs IN ("192.168.0.0/16", "10.1.2.0/24")').match(event)).toBe(true)
    expect(rule('sourceIPs!="192.168.0.0/16"').match(event)).toBe(true)
    expect(splError('sourceIPs="10.0.0.0/33"').message).toContain('invalid CIDR')
  })
})

describe('SPL refusals and messages', () => {
  it('a query starting with | is PURPLE_SPL_UNSUPPORTED', () => {
    const err = splError('| tstats count where index=containers')
    expect(err.code).toBe('PURPLE_SPL_UNSUPPORTED')
    expect(splError('  |inputlookup x').code).toBe('PURPLE_SPL_UNSUPPORTED')
  })

  it('loadRules names each file once per problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'purplekind-compat-'))
    try {
      await writeFile(join(dir, 'bad.spl'), 'verb=get | transaction user')
      await writeFile(join(dir, 'bad2.spl'), '# level: urgent\nverb=get')
      await writeFile(
        join(dir, 'bad.yml'),
        'title: t\ndetection:\n  sel:\n    verb|re: "(a"\n  condition: sel\n',
      )
      const error = await loadRules([dir]).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ValidationError)
      const issues = (error as ValidationError).issues
      expect(issues).toHaveLength(3)
      for (const issue of issues) {
        expect(issue.message).not.toContain(dir)
        expect(formatIssue(issue).split(dir).length).toBe(2)
      }
      expect(issues.map((i) => i.code).sort()).toEqual([
        'PURPLE_RULE_INVALID',
        'PURPLE_RULE_INVALID',
        'PURPLE_SPL_UNSUPPORTED',
      ])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('a match-all value does not match an object-valued field', () => {
  const event = audit({ verb: 'get', objectRef: { resource: 'secrets' }, userAgent: 'kubectl' })
  it('SPL f="*" and f=*', () => {
    expect(rule('objectRef="*"').match(event)).toBe(false)
    expect(rule('objectRef=*').match(event)).toBe(false)
    expect(rule('userAgent=*').match(event)).toBe(true)
    expect(rule('objectRef.resource=*').match(event)).toBe(true)
  })
  it("Sigma f: '*' agrees", () => {
    const sigma = (field: string) => detectionRule(`sel:\n  ${field}: '*'\ncondition: sel`).match(event)
    expect(sigma('objectRef')).toBe(false)
    expect(sigma('userAgent')).toBe(true)
  })
})
