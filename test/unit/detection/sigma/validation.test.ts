// Bad rules give one ValidationError listing every problem, each naming the file and field path.
import { describe, expect, it } from 'vitest'
import { parseSigma } from '../../../../src/detection/sigma/index.js'
import { type Issue, ValidationError } from '../../../../src/errors.js'

function issuesOf(text: string, file = 'rules/bad.yml'): Issue[] {
  try {
    parseSigma(text, file)
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError)
    const err = e as ValidationError
    expect(err.code).toBe('PURPLE_RULE_INVALID')
    for (const issue of err.issues) {
      expect(issue.file).toBe(file)
      expect(issue.code).toBe('PURPLE_RULE_INVALID')
    }
    return [...err.issues]
  }
  throw new Error('expected a ValidationError')
}

const rule = (detection: string) => `title: t\ndetection:\n${detection.replace(/^/gm, '  ')}\n`

describe('validation errors', () => {
  it('reports every problem at once, each with its path', () => {
    const issues = issuesOf(
      rule(`sel:
  verb|contians: get
  requestURI|re: '(unclosed'
  sourceIPs|cidr: 10.0.0.0/33
  responseStatus.code|gt: high
condition: sel and filter`),
    )
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['detection.sel.verb|contians', "unknown modifier 'contians' (did you mean 'contains'?)"],
      ['detection.sel.requestURI|re', expect.stringMatching(/^invalid regular expression '\(unclosed': /)],
      ['detection.sel.sourceIPs|cidr', "invalid CIDR '10.0.0.0/33'"],
      ['detection.sel.responseStatus.code|gt', "'gt' needs numeric values"],
      ['detection.condition', "bad condition: unknown selection 'filter' at column 9 ('filter')"],
    ])
  })

  it.each([
    ['missing detection', 'title: t\nlogsource: {product: kubernetes}\n', 'detection', /missing detection/],
    ['missing condition', rule('sel:\n  verb: get'), 'detection.condition', /missing condition/],
    ['detection not a map', 'title: t\ndetection: [a]\n', 'detection', /must be a map/],
    [
      'syntax: dangling operator',
      rule('sel:\n  verb: get\ncondition: sel and'),
      'detection.condition',
      /expected a selection at end of condition/,
    ],
    [
      'syntax: unbalanced parenthesis',
      rule('sel:\n  verb: get\ncondition: (sel or sel'),
      'detection.condition',
      /expected '\)' at end/,
    ],
    [
      'syntax: two selections in a row',
      rule('sel:\n  verb: get\ncondition: sel sel'),
      'detection.condition',
      /expected 'and', 'or' or the end at column 5/,
    ],
    [
      'syntax: bare wildcard',
      rule('sel:\n  verb: get\ncondition: sel*'),
      'detection.condition',
      /needs '1 of' or 'all of'/,
    ],
    [
      'pattern matching nothing',
      rule('sel:\n  verb: get\ncondition: 1 of filter_*'),
      'detection.condition',
      /pattern 'filter_\*' matches no selection/,
    ],
    [
      'aggregation',
      rule('sel:\n  verb: get\ncondition: sel | count() > 5'),
      'detection.condition',
      /use a correlation rule/,
    ],
    [
      'bad list entry in condition',
      rule('sel:\n  verb: get\ncondition: [sel, 5]'),
      'detection.condition[1]',
      /must be a string/,
    ],
    [
      'conflicting modifiers',
      rule('sel:\n  verb|contains|startswith: g\ncondition: sel'),
      'detection.sel.verb|contains|startswith',
      /conflicting/,
    ],
    [
      're with contains',
      rule("sel:\n  verb|re|contains: 'g'\ncondition: sel"),
      'detection.sel.verb|re|contains',
      /cannot be combined/,
    ],
    [
      'all on one value',
      rule('sel:\n  verb|all: get\ncondition: sel'),
      'detection.sel.verb|all',
      /needs a list/,
    ],
    [
      'exists with a string',
      rule('sel:\n  verb|exists: yes\ncondition: sel'),
      'detection.sel.verb|exists',
      /true or false/,
    ],
    [
      'expand',
      rule("sel:\n  verb|expand: '%x%'\ncondition: sel"),
      'detection.sel.verb|expand',
      /not supported/,
    ],
    [
      'time modifier',
      rule('sel:\n  stageTimestamp|hour: 3\ncondition: sel'),
      'detection.sel.stageTimestamp|hour',
      /not supported/,
    ],
    [
      'wide without base64',
      rule('sel:\n  verb|wide: get\ncondition: sel'),
      'detection.sel.verb|wide',
      /before base64/,
    ],
    [
      'nested map value',
      rule('sel:\n  objectRef:\n    resource: secrets\ncondition: sel'),
      'detection.sel.objectRef',
      /dotted field name/,
    ],
    ['empty value list', rule('sel:\n  verb: []\ncondition: sel'), 'detection.sel.verb', /empty list/],
    [
      'list entry not a scalar',
      rule('sel:\n  verb: [get, {a: 1}]\ncondition: sel'),
      'detection.sel.verb[1]',
      /must be a string/,
    ],
    ['selection of the wrong shape', rule('sel: null\ncondition: sel'), 'detection.sel', /must be a map/],
    [
      'timeframe',
      rule('sel:\n  verb: get\ntimeframe: 5m\ncondition: sel'),
      'detection.timeframe',
      /correlation/,
    ],
    [
      'tags not a list',
      `title: t\ntags: attack.t1552\n${rule('sel:\n  verb: get\ncondition: sel').slice(9)}`,
      'tags',
      /list of strings/,
    ],
    [
      'logsource not a map',
      `title: t\nlogsource: kubernetes\n${rule('sel:\n  verb: get\ncondition: sel').slice(9)}`,
      'logsource',
      /must be a map/,
    ],
  ])('%s', (_name, text, path, message) => {
    const issues = issuesOf(text)
    expect(issues).toContainEqual(expect.objectContaining({ path, message: expect.stringMatching(message) }))
  })

  it('YAML syntax errors name line and column', () => {
    const issues = issuesOf('title: t\ndetection:\n  sel: [unclosed\n  condition: sel\n')
    expect(issues[0]!.path).toMatch(/^\d+:\d+$/)
    expect(issues[0]!.message).toMatch(/^YAML syntax error/)
  })

  it('duplicate keys are YAML errors', () => {
    expect(
      issuesOf('title: t\ntitle: u\ndetection:\n  sel:\n    verb: get\n  condition: sel\n')[0]!.message,
    ).toMatch(/YAML syntax error/)
  })

  it('multi-document files prefix the document index and flag duplicate ids', () => {
    const ok = 'detection:\n  sel:\n    verb: get\n  condition: sel\n'
    const issues = issuesOf(
      `title: a\nid: x\n${ok}---\ntitle: b\nid: x\n${ok}---\ntitle: c\ndetection:\n  condition: sel\n`,
    )
    expect(issues).toContainEqual(
      expect.objectContaining({ path: 'documents[1].id', message: "duplicate rule id 'x'" }),
    )
    expect(issues).toContainEqual(
      expect.objectContaining({ path: 'documents[2].detection', message: 'no selections defined' }),
    )
  })

  it('the error message lists each issue as file:path: message [code]', () => {
    expect(() => parseSigma(rule('sel:\n  verb|contians: get\ncondition: sel'), 'rules/x.yml')).toThrow(
      "rules/x.yml:detection.sel.verb|contians: unknown modifier 'contians' (did you mean 'contains'?) [PURPLE_RULE_INVALID]",
    )
  })

  it('correlation problems', () => {
    const issues = issuesOf(`title: c
correlation:
  type: event_cnt
  rules: [missing_rule]
  group-by: user.username
  timespan: 5 minutes
  condition: {gte: ten}
`)
    const paths = issues.map((i) => i.path)
    expect(paths).toEqual(
      expect.arrayContaining(['correlation.type', 'correlation.timespan', 'correlation.condition.gte']),
    )
    expect(issues.find((i) => i.path === 'correlation.timespan')!.message).toMatch(/bad timespan "5 minutes"/)
  })

  it('correlation referencing an unknown rule', () => {
    const issues = issuesOf(`title: c
correlation:
  type: event_count
  rules: [nope]
  timespan: 5m
  condition: {gte: 2}
`)
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'correlation.rules[0]',
        message: expect.stringMatching(/unknown rule 'nope'/),
      }),
    ])
  })

  it('value_count without field', () => {
    const issues = issuesOf(
      'title: r\nname: r\ndetection:\n  sel:\n    verb: get\n  condition: sel\n---\ntitle: c\ncorrelation:\n  type: value_count\n  rules: [r]\n  timespan: 1h\n  condition: {gte: 3}\n',
    )
    expect(issues).toContainEqual(
      expect.objectContaining({
        path: 'documents[1].correlation.condition',
        message: "value_count needs 'field'",
      }),
    )
  })
})
