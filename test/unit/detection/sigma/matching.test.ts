// Conformance: conditions, wildcards and escapes, case rules, null/empty, arrays, keywords, logsource.
import { describe, expect, it } from 'vitest'
import { parseSigma } from '../../../../src/detection/sigma/index.js'
import { auditEvent, configmapListBySa, execImds, matches, secretGet, secretsList } from './helpers.js'

const SELECTIONS = `
a:
  verb: list
b:
  objectRef.resource: secrets
c:
  objectRef.namespace: default
`

describe('condition precedence', () => {
  // secretsList: a, b, c all true; secretGet: a false, b true, c false; configmaps: a true, b false, c false
  const cond = (c: string) => `${SELECTIONS}condition: ${c}`
  it.each([
    ['a or b and not c', secretsList(), true], // a
    ['a or b and not c', secretGet(), true], // b and not c
    ['a or b and not c', configmapListBySa(), true], // a
    ['(a or b) and not c', secretsList(), false],
    ['(a or b) and not c', secretGet(), true],
    ['not a and b', secretGet(), true], // (not a) and b
    ['not (a and b)', secretsList(), false],
    ['not a or c', configmapListBySa(), false],
    ['a and b and c', secretsList(), true],
    ['a and (b or c)', configmapListBySa(), false],
    ['not not a', secretsList(), true],
    ['A and B', secretsList(), null], // selection names are case-sensitive → validation error
  ])('%s', (c, raw, expected) => {
    if (expected === null) expect(() => matches(cond(c), raw)).toThrow(/unknown selection 'A'/)
    else expect(matches(cond(c), raw)).toBe(expected)
  })

  it('operators are case-insensitive', () => {
    expect(matches(cond('a AND NOT c OR b'), secretGet())).toBe(true)
  })

  it('a list of conditions is an OR', () => {
    expect(matches(`${SELECTIONS}condition: [a and c, b and not c]`, secretGet())).toBe(true)
    expect(matches(`${SELECTIONS}condition: [a and c, b and c]`, secretGet())).toBe(false)
  })
})

describe('1 of / all of', () => {
  const sels = `
sel_secret:
  objectRef.resource: secrets
sel_list:
  verb: list
filter_sa:
  user.username|startswith: 'system:serviceaccount:'
_helper:
  verb: get
`
  it.each([
    ['1 of sel_*', secretGet(), true],
    ['all of sel_*', secretGet(), false],
    ['all of sel_*', secretsList(), true],
    ['all of sel_* and not 1 of filter_*', secretsList(), true],
    ['1 of sel_* and not 1 of filter_*', configmapListBySa(), false],
    ['1 of them', configmapListBySa(), true],
    ['all of them', secretsList(), false], // filter_sa fails
    ['all of them', { ...secretsList(), user: { username: 'system:serviceaccount:x:y' } }, true], // _helper ignored
    ['1 of them', { ...secretGet(), objectRef: { resource: 'pods' }, user: { username: 'x' } }, false], // only _helper
    ['_helper', secretGet(), true],
    ['2 of sel_* or 1 of filter*', secretsList(), true],
    ['all of sel_* or (1 of filter* and not all of sel*)', configmapListBySa(), true],
  ])('%s', (c, raw, expected) => {
    expect(matches(`${sels}condition: ${c}`, raw)).toBe(expected)
  })
})

describe('selections', () => {
  it('a map is an AND, a list of maps an OR, a list of values an OR', () => {
    const and = 'sel:\n  verb: list\n  objectRef.resource: pods\ncondition: sel'
    expect(matches(and, secretsList())).toBe(false)
    const or = 'sel:\n  - verb: watch\n  - objectRef.resource: secrets\ncondition: sel'
    expect(matches(or, secretGet())).toBe(true)
    const values = 'sel:\n  verb: [watch, get]\ncondition: sel'
    expect(matches(values, secretGet())).toBe(true)
    expect(matches(values, secretsList())).toBe(false)
  })
})

describe('wildcards and escapes', () => {
  const uri = (v: string) => `sel:\n  requestURI: '${v}'\ncondition: sel`
  const raw = { ...secretGet(), requestURI: '/api/v1/namespaces/t1552/secrets/canary-db' }
  it.each([
    ['/api/*/secrets/*', true],
    ['*/secrets/canary-??', true],
    ['*/secrets/canary-?', false],
    ['/api/v1/*/t1552/*', true],
    ['/api/v1/*/default/*', false],
    ['*', true],
    ['/api*v1*t1552*db', true],
    ['/api*db*db', false], // pieces must not overlap
  ])('%s', (v, expected) => expect(matches(uri(v), raw)).toBe(expected))

  const field = (v: string, value: string) =>
    matches(`sel:\n  requestObject.v: '${v}'\ncondition: sel`, {
      ...secretGet(),
      requestObject: { v: value },
    })
  it('\\* and \\? are literal characters', () => {
    expect(field('a\\*b', 'a*b')).toBe(true)
    expect(field('a\\*b', 'axxb')).toBe(false)
    expect(field('what\\?', 'what?')).toBe(true)
    expect(field('what\\?', 'whatx')).toBe(false)
  })
  it('\\\\ is one backslash and keeps a following wildcard active', () => {
    expect(field('C:\\\\*', 'C:\\Windows')).toBe(true)
    expect(field('C:\\\\*', 'C:/Windows')).toBe(false)
  })
  it('a backslash before an ordinary character, or at the end, is literal', () => {
    expect(field('C:\\Windows\\', 'C:\\Windows\\')).toBe(true)
    expect(field('C:\\Windows\\', 'C:\\Windows')).toBe(false)
  })
  it('contains keeps inner wildcards', () => {
    const r = `sel:\n  requestURI|contains: 'command=curl*169.254.169.254'\ncondition: sel`
    expect(matches(r, execImds())).toBe(true)
    expect(matches(r, secretGet())).toBe(false)
  })
})

describe('case rules', () => {
  it('matching is case-insensitive by default, for values and wildcards', () => {
    expect(matches('sel:\n  verb: LIST\ncondition: sel', secretsList())).toBe(true)
    expect(matches("sel:\n  userAgent: 'KUBECTL/*'\ncondition: sel", secretsList())).toBe(true)
    expect(matches("sel:\n  userAgent|contains: 'Linux/AMD64'\ncondition: sel", secretsList())).toBe(true)
  })
  it('cased makes it case-sensitive', () => {
    expect(matches('sel:\n  verb|cased: LIST\ncondition: sel', secretsList())).toBe(false)
    expect(matches('sel:\n  verb|cased: list\ncondition: sel', secretsList())).toBe(true)
  })
})

describe('null, empty and types', () => {
  it('null matches an absent field or a null value, not a present one', () => {
    const r = 'sel:\n  objectRef.name: null\ncondition: sel'
    expect(matches(r, secretsList())).toBe(true)
    expect(matches(r, { ...secretsList(), impersonatedUser: null })).toBe(true)
    expect(matches(r, secretGet())).toBe(false)
    expect(
      matches('sel:\n  impersonatedUser: null\ncondition: sel', { ...secretGet(), impersonatedUser: null }),
    ).toBe(true)
  })
  it('null can be one of several values', () => {
    const r = "sel:\n  objectRef.name: [null, 'canary-db']\ncondition: sel"
    expect(matches(r, secretsList())).toBe(true)
    expect(matches(r, secretGet())).toBe(true)
    expect(matches(r, { ...secretGet(), objectRef: { name: 'other' } })).toBe(false)
  })
  it("'' matches only an empty string", () => {
    const r = "sel:\n  annotations.authorization.k8s.io/reason: ''\ncondition: sel"
    expect(matches(r, secretGet())).toBe(true)
    expect(matches(r, { ...secretGet(), annotations: {} })).toBe(false)
    expect(matches(r, { ...secretGet(), annotations: { 'authorization.k8s.io/reason': 'RBAC' } })).toBe(false)
  })
  it('numbers compare as strings without a numeric modifier', () => {
    expect(matches('sel:\n  responseStatus.code: 200\ncondition: sel', secretGet())).toBe(true)
    expect(matches("sel:\n  responseStatus.code: '200'\ncondition: sel", secretGet())).toBe(true)
    expect(matches("sel:\n  responseStatus.code: '2*'\ncondition: sel", secretGet())).toBe(true)
    expect(matches('sel:\n  responseStatus.code: 20\ncondition: sel', secretGet())).toBe(false)
  })
  it('booleans compare as strings', () => {
    const raw = { ...secretGet(), requestObject: { tty: true } }
    expect(matches('sel:\n  requestObject.tty: true\ncondition: sel', raw)).toBe(true)
    expect(matches('sel:\n  requestObject.tty: false\ncondition: sel', raw)).toBe(false)
  })
  it('an object-valued field matches no string', () => {
    expect(matches("sel:\n  objectRef: '*'\ncondition: sel", secretGet())).toBe(false)
  })
})

describe('array-valued fields', () => {
  it('match when any element matches', () => {
    expect(matches("sel:\n  user.groups: 'system:authenticated'\ncondition: sel", secretGet())).toBe(true)
    expect(matches("sel:\n  user.groups|startswith: 'kubeadm:'\ncondition: sel", secretGet())).toBe(true)
    expect(matches("sel:\n  user.groups: 'system:masters'\ncondition: sel", secretGet())).toBe(false)
    expect(matches("sel:\n  sourceIPs: '172.18.0.1'\ncondition: sel", secretGet())).toBe(true)
  })
  it('all: each value may be matched by a different element', () => {
    const r = "sel:\n  user.groups|all: ['kubeadm:cluster-admins', 'system:authenticated']\ncondition: sel"
    expect(matches(r, secretGet())).toBe(true)
    expect(matches(r, configmapListBySa())).toBe(false)
  })
  it('paths through arrays of objects', () => {
    const raw = {
      ...secretGet(),
      requestObject: { spec: { containers: [{ image: 'busybox' }, { image: 'curlimages/curl' }] } },
    }
    expect(matches('sel:\n  requestObject.spec.containers.image|contains: curl\ncondition: sel', raw)).toBe(
      true,
    )
    expect(matches('sel:\n  requestObject.spec.containers.image: nginx\ncondition: sel', raw)).toBe(false)
  })
})

describe('keyword selections', () => {
  it('search the whole raw event text, case-insensitively', () => {
    expect(
      matches('keywords:\n  - meta-data\n  - metadata.google.internal\ncondition: keywords', execImds()),
    ).toBe(true)
    expect(matches('keywords:\n  - META-DATA\ncondition: keywords', execImds())).toBe(true)
    expect(matches('keywords:\n  - meta-data\ncondition: keywords', secretGet())).toBe(false)
  })
  it('a single keyword string and wildcards inside keywords', () => {
    expect(matches("keywords: 'canary-*'\ncondition: keywords", secretGet())).toBe(true)
    expect(matches("keywords: 'canary-?b'\ncondition: keywords", secretGet())).toBe(true)
    expect(matches("keywords: 'canary-x*'\ncondition: keywords", secretGet())).toBe(false)
  })
  it("'|all' keyword lists need every keyword", () => {
    expect(matches("keywords:\n  '|all': [secrets, canary-db]\ncondition: keywords", secretGet())).toBe(true)
    expect(matches("keywords:\n  '|all': [secrets, other-db]\ncondition: keywords", secretGet())).toBe(false)
  })
  it('combine with field selections', () => {
    const r = 'sel:\n  verb: get\nkw:\n  - canary-db\ncondition: sel and not kw'
    expect(matches(r, secretGet())).toBe(false)
    expect(matches(r, execImds())).toBe(true)
  })
})

describe('logsource mapping', () => {
  const sources = (logsource: string) =>
    parseSigma(`title: t\n${logsource}\ndetection:\n  sel:\n    verb: get\n  condition: sel\n`, 'r.yml')
      .rules[0]!.sources
  it.each([
    ['logsource: {product: kubernetes, service: audit}', ['k8s-audit']],
    ['logsource: {category: application, product: kubernetes, service: audit}', ['k8s-audit']],
    ['logsource: {product: Kubernetes, category: audit}', ['k8s-audit']],
    ['logsource: {product: docker, service: events}', ['docker-events']],
    ['logsource: {product: docker, service: api}', ['docker-api']],
    ['logsource: {product: kubernetes, service: container_logs}', ['container-logs']],
    ['logsource: {product: docker, category: container_logs}', ['container-logs']],
    ['logsource: {product: kubernetes, service: container}', ['container-logs']],
    ['logsource: {product: windows, service: security}', []],
    ['logsource: {product: aws, service: cloudtrail}', []],
    ['logsource: {category: process_creation}', undefined],
    ['logsource: {product: kubernetes}', undefined],
    ['logsource: {product: purplekind, service: decoy-access}', ['decoy-access']],
    ['', undefined],
  ])('%s', (ls, expected) => expect(sources(ls)).toEqual(expected))

  it('rule metadata is carried over', () => {
    const [rule] = parseSigma(
      'title: Secrets enumeration\nid: abc-1\nlevel: low\ntags: [attack.t1552.007, attack.credential-access]\ndetection:\n  sel:\n    verb: list\n  condition: sel\n',
      'rules/secrets.yml',
    ).rules
    expect(rule).toMatchObject({
      id: 'abc-1',
      title: 'Secrets enumeration',
      file: 'rules/secrets.yml',
      language: 'sigma',
      level: 'low',
      tags: ['attack.t1552.007', 'attack.credential-access'],
    })
    expect(rule!.match(auditEvent(secretsList()))).toBe(true)
  })
})
