// Issue 8 item 3: regexes and wildcards on attacker-influenced values run in linear time. Each case
// prints its measured time; the bound is generous (the CI machine has 2 shared cores), the old
// backtracking engines took over 12 s at 26 characters and over 60 s at 40.
import { describe, expect, it } from 'vitest'
import { compileRegex, RegexError } from '../../../src/detection/linear-regex.js'
import { ValidationError } from '../../../src/errors.js'
import { auditEvent, detectionRule, secretsList } from './sigma/helpers.js'
import { audit, rule as splRule } from './spl/helpers.js'

const BOUND_MS = 2000

function timed<T>(label: string, fn: () => T): T {
  const t0 = performance.now()
  const result = fn()
  const ms = performance.now() - t0
  console.log(`${label}: ${ms.toFixed(1)} ms`)
  expect(ms).toBeLessThan(BOUND_MS)
  return result
}

describe('ReDoS', () => {
  it('Sigma |re (a+)+$ over 10,000 × a + ! evaluates in linear time', () => {
    const rule = detectionRule("sel:\n  userAgent|re: '(a+)+$'\ncondition: sel")
    const hostile = auditEvent({ ...secretsList(), userAgent: `${'a'.repeat(10_000)}!` })
    expect(timed('sigma (a+)+$ on 10,001 chars', () => rule.match(hostile))).toBe(false)
    const fine = auditEvent({ ...secretsList(), userAgent: 'a'.repeat(10_000) })
    expect(timed('sigma (a+)+$ on 10,000 a', () => rule.match(fine))).toBe(true)
  })

  it('SPL wildcard chain *a*a*…*b over 10,000 characters evaluates without backtracking', () => {
    const chain = `userAgent="${'*a'.repeat(20)}*b"`
    const rule = splRule(chain)
    const hostile = audit({ verb: 'get', userAgent: 'a'.repeat(10_000) })
    expect(timed('spl *a×20*b on 10,000 a', () => rule.match(hostile))).toBe(false)
    expect(rule.match(audit({ verb: 'get', userAgent: `${'a'.repeat(10_000)}b` }))).toBe(true)
    expect(rule.match(audit({ verb: 'get', userAgent: `${'a'.repeat(19)}b` }))).toBe(false)
  })

  it('Sigma ? and * wildcards over 10,000 characters evaluate without backtracking', () => {
    const rule = detectionRule(`sel:\n  userAgent: '${'*a?'.repeat(20)}*b'\ncondition: sel`)
    const hostile = auditEvent({ ...secretsList(), userAgent: 'a'.repeat(10_000) })
    expect(timed('sigma *a?×20*b on 10,000 a', () => rule.match(hostile))).toBe(false)
    expect(rule.match(auditEvent({ ...secretsList(), userAgent: `${'a'.repeat(40)}b` }))).toBe(true)
    expect(rule.match(auditEvent({ ...secretsList(), userAgent: `${'a'.repeat(39)}b` }))).toBe(false)
  })

  it('classic catastrophic patterns stay linear', () => {
    const subject = `${'a'.repeat(10_000)}!`
    for (const source of ['^(a|a)*$', '(a*)*b', '^(a|aa)+$', '^(\\w+\\s?)*$', '(.*a){20}$']) {
      expect(timed(`${source} on 10,001 chars`, () => compileRegex(source).test(subject))).toBe(false)
    }
  })
})

describe('linear regex semantics (PCRE)', () => {
  const cases: [string, string, string, boolean][] = [
    ['a.c', '', 'a\rc', true], // PCRE dot: only \n is excluded
    ['a.c', '', 'a\u2028c', true],
    ['a.c', '', 'a\nc', false],
    ['a.c', 's', 'a\nc', true],
    ['abc$', '', 'xabc\n', true], // $ also before a final newline
    ['abc\\z', '', 'xabc\n', false],
    ['^b', 'm', 'a\nb', true],
    ['^b', '', 'a\nb', false],
    ['\\bfoo\\b', '', 'a foo b', true],
    ['\\bfoo\\b', '', 'afoob', false],
    ['FOO', 'i', 'xfoo', true],
    ['(?i)FOO', '', 'xfoo', true],
    ['a(?i:B)c', '', 'abc', true],
    ['a(?i:B)c', '', 'abC', false],
    ['[^a-c]x', '', 'bx', false],
    ['[^a-c]x', '', 'dx', true],
    ['^a{2,3}b', '', 'ab', false],
    ['^a{2,3}b', '', 'aaab', true],
    ['x[\\d.]+y', '', 'x1.2y', true],
    ['^.$', '', '😀', true],
    ['^kubectl/v1\\.(1[0-9]|2[0-5])\\.', '', 'kubectl/v1.24.1 (linux)', true],
    ['^kubectl/v1\\.(1[0-9]|2[0-5])\\.', '', 'kubectl/v1.26.1 (linux)', false],
    ['(?P<name>ab)+', '', 'xabab', true],
  ]
  it.each(cases)('%s /%s on %j → %s', (source, flags, subject, want) => {
    expect(compileRegex(source, flags).test(subject)).toBe(want)
  })

  it('agrees with JavaScript RegExp where their semantics coincide', () => {
    const patterns = ['ab*c', '(a|b)+c', '^x?y{2}', '[a-f0-9]{4}-', 'k(ey|ube)s?\\b', '\\d+\\.\\d+$']
    const subjects = ['abbbc', 'abac', 'xyy', 'yy', 'dead-', 'keys', 'kube ctl', 'v1.25', '', 'c']
    for (const p of patterns) {
      const js = new RegExp(p)
      const mine = compileRegex(p)
      for (const s of subjects) expect([p, s, mine.test(s)]).toEqual([p, s, js.test(s)])
    }
  })

  it.each([
    ['(a)\\1', 'backreferences'],
    ['(?=a)b', 'lookahead'],
    ['(?<!a)b', 'lookbehind'],
    ['a++', 'possessive'],
    ['(?>a)', 'atomic'],
    ['[[:alpha:]]', 'POSIX'],
    ['a{5000}', 'repetition count'],
    ['(a', "missing ')'"],
  ])('refuses %s with a clear error (%s)', (source, why) => {
    expect(() => compileRegex(source)).toThrow(RegexError)
    expect(() => compileRegex(source)).toThrow(why)
  })

  it('a refused Sigma |re is a coded rule error naming the field', () => {
    try {
      detectionRule("sel:\n  userAgent|re: '(a)\\1'\ncondition: sel")
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError)
      const issue = (e as ValidationError).issues[0]!
      expect(issue.code).toBe('PURPLE_RULE_INVALID')
      expect(issue.path).toBe('detection.sel.userAgent|re')
      expect(issue.message).toContain('backreferences are not supported')
    }
  })
})
