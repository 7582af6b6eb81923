import { describe, expect, it } from 'vitest'
import { parseSpl } from '../../../../src/detection/spl/index.js'
import { audit, rule, splError } from './helpers.js'

const listPods = audit({ verb: 'list', objectRef: { resource: 'pods' } })
const getSecret = audit({ verb: 'get', objectRef: { resource: 'secrets', name: 'canary-db' } })
const listSecrets = audit({ verb: 'list', objectRef: { resource: 'secrets' } })

describe('precedence (search command: parentheses, NOT, OR, then AND)', () => {
  it('binds OR tighter than implicit AND: `a OR b c` is `(a OR b) AND c`', () => {
    const r = rule('verb=list OR verb=get objectRef.resource=secrets')
    expect(r.match(listPods)).toBe(false) // would be true if AND bound tighter
    expect(r.match(getSecret)).toBe(true)
    expect(r.match(listSecrets)).toBe(true)
  })

  it('binds OR tighter than explicit AND, as Splunk documents `A=1 AND B=2 OR C=3`', () => {
    const r = rule('objectRef.resource=secrets AND verb=list OR verb=get')
    expect(r.match(getSecret)).toBe(true)
    expect(r.match(audit({ verb: 'get', objectRef: { resource: 'pods' } }))).toBe(false)
  })

  it('applies NOT to the next term only, and parentheses override', () => {
    expect(rule('NOT verb=get OR verb=list').match(listPods)).toBe(true)
    expect(rule('NOT verb=get OR verb=list').match(getSecret)).toBe(false)
    expect(rule('NOT (verb=get OR verb=list)').match(listPods)).toBe(false)
    expect(rule('(verb=list objectRef.resource=pods) OR verb=get').match(listPods)).toBe(true)
  })

  it('AND-s every `| search` stage, and accepts a leading `search` command', () => {
    const r = rule('search verb=list | search objectRef.resource=secrets | SEARCH user.username=kube*')
    expect(r.match(listSecrets)).toBe(true)
    expect(r.match(listPods)).toBe(false)
  })
})

describe('field tests', () => {
  it('!= never matches an event lacking the field, unlike NOT field=value', () => {
    const noName = listSecrets
    expect(rule('objectRef.name!=canary-db').match(noName)).toBe(false)
    expect(rule('NOT objectRef.name=canary-db').match(noName)).toBe(true)
    expect(rule('objectRef.name!=canary-db').match(getSecret)).toBe(false)
    expect(rule('objectRef.name!=other').match(getSecret)).toBe(true)
  })

  it('compares values case-insensitively and field names case-sensitively', () => {
    expect(rule('verb=LIST').match(listPods)).toBe(true)
    expect(rule('Verb=list').match(listPods)).toBe(false)
  })

  it('supports * wildcards anywhere in a value, quoted or not', () => {
    const e = audit({ verb: 'get', userAgent: 'kubectl/v1.36.3 (linux/amd64) kubernetes/abc1234' })
    for (const v of ['kubectl/*', '"*linux/amd64*"', '*abc1234', '"kube*/v1.*(linux*"', '*']) {
      expect(rule(`userAgent=${v}`).match(e), v).toBe(true)
    }
    expect(rule('userAgent=curl/*').match(e)).toBe(false)
    expect(rule('userAgent=kubectl').match(e)).toBe(false) // no implicit substring match for fields
  })

  it('matches IN lists against any value, with wildcards', () => {
    const r = rule('verb IN (create, "patch", del*)')
    expect(r.match(audit({ verb: 'delete' }))).toBe(true)
    expect(r.match(audit({ verb: 'PATCH' }))).toBe(true)
    expect(r.match(audit({ verb: 'get' }))).toBe(false)
  })

  it('matches a list-valued field when any element matches', () => {
    const e = audit({ verb: 'get', user: { username: 'bob', groups: ['system:authenticated', 'dev'] } })
    expect(rule('user.groups=dev').match(e)).toBe(true)
    expect(rule('user.groups!=dev').match(e)).toBe(false)
    expect(rule('user.groups!=ops').match(e)).toBe(true)
  })

  it('resolves quoting: \\" \\\\ and \\* escapes, and a literal asterisk', () => {
    const e = audit({ verb: 'get', userAgent: 'say "hi" C:\\tmp *star*' })
    expect(rule('userAgent="say \\"hi\\" C:\\\\tmp \\*star\\*"').match(e)).toBe(true)
    expect(rule('userAgent="say \\"hi\\" C:\\\\tmp \\*st\\*"').match(e)).toBe(false)
    expect(rule('userAgent="say*\\*star\\*"').match(e)).toBe(true)
  })

  it('compares numbers with < > <= >=', () => {
    const denied = audit({ verb: 'get', responseStatus: { code: 403 } })
    expect(rule('responseStatus.code>=400').match(denied)).toBe(true)
    expect(rule('responseStatus.code<400').match(denied)).toBe(false)
    expect(rule('responseStatus.code=403').match(denied)).toBe(true)
    expect(rule('responseStatus.code>0').match(listPods)).toBe(false) // absent field
  })

  it('reads envelope fields index, sourcetype and source', () => {
    expect(rule('index=containers sourcetype=kubernetes:api').match(listPods)).toBe(true)
    expect(rule('index=other').match(listPods)).toBe(false)
  })

  it('searches raw text for bare keywords and quoted phrases; lowercase or/and are keywords', () => {
    const e = audit({ verb: 'get', requestURI: '/api/v1/namespaces/t1552/secrets/canary-db' })
    expect(rule('canary-db').match(e)).toBe(true)
    expect(rule('"secrets/canary"').match(e)).toBe(true)
    expect(rule('CANARY*').match(e)).toBe(true)
    expect(rule('canary-db or missing').match(e)).toBe(false) // `or` is the word "or"
    expect(rule('canary-db OR missing').match(e)).toBe(true)
  })
})

describe('rule metadata', () => {
  it('takes the id from the file name and the title from `# title:`', () => {
    const r = parseSpl(
      '# title: Secrets listed\n# a free comment\n# tags: attack.t1552.007\nverb=list',
      'x/secrets-list.spl',
    )
    expect(r).toMatchObject({
      id: 'secrets-list',
      title: 'Secrets listed',
      tags: ['attack.t1552.007'],
      file: 'x/secrets-list.spl',
    })
    expect(parseSpl('verb=list', 'y.spl').title).toBe('y')
  })

  it('rejects an unknown level naming the file and line', () => {
    expect(() => parseSpl('# level: urgent\nverb=list', 'r.spl')).toThrow(/^r\.spl:1: level must be one of/)
  })

  it('derives sources from positive sourcetype tests only', () => {
    expect(rule('sourcetype="docker:*" action=create').sources).toEqual(['docker-events', 'docker-api'])
    expect(rule('sourcetype!="docker:events"').sources).toBeUndefined()
    expect(rule('sourcetype=docker:events OR verb=get').sources).toBeUndefined()
    expect(rule('verb=get').sources).toBeUndefined()
  })

  it('explains a miss with the best branch, its score and the first failing test', () => {
    const r = rule('(verb=list objectRef.resource=secrets user.username!=system:*) OR canary-db')
    expect(r.nearMiss?.(listPods)).toEqual({
      rule: 'inline',
      score: 2 / 3,
      field: 'objectRef.resource',
      expected: 'objectRef.resource="secrets"',
      actual: 'pods',
    })
    expect(r.nearMiss?.(listSecrets)).toBeUndefined()
  })
})

describe('unsupported SPL is refused with a code, the token and its column', () => {
  it.each([
    ['verb=get | transaction user', '| transaction', 12],
    ['verb=get | stats median(x)', 'median', 18],
    ['verb=get | eval x=sha256(y)', 'sha256(', 19],
    ['verb=get [search index=foo]', '[', 10],
    ['verb=get earliest=-24h', 'earliest', 10],
    ['verb=get TERM(10.0.0.1)', 'TERM(', 10],
    ['sourcetype=_json verb=get', '_json', 12],
    ['verb==get', '==', 5],
    ['responseStatus.code>abc', 'abc', 21],
    ['tag::host=web', 'tag::host', 1],
  ])('%s', (search, token, column) => {
    const err = splError(search)
    expect(err.code).toBe('PURPLE_SPL_UNSUPPORTED')
    expect(err.message).toContain(`rules/inline.spl:1:${column}: `)
    expect(err.message).toContain(`('${token}')`)
    expect(err.message.split('rules/inline.spl').length).toBe(2) // the file is named once
  })

  it('counts lines and columns in multi-line rules, after header comments', () => {
    const err = splError('# title: t\nindex=containers\n  | join user')
    expect(err.message).toContain("rules/inline.spl:3:5: the 'join' command is not supported ('| join')")
  })
})

describe('malformed SPL is a PURPLE_RULE_INVALID with its position', () => {
  it.each([
    ['(verb=get', ':1:10: ', "missing ')'"],
    ['verb=get)', ':1:9: ', "unexpected ')'"],
    ['userAgent="kubectl', ':1:11: ', 'unterminated quoted string'],
    ['', ':1:1: ', 'the search is empty'],
    ['verb=', ':1:6: ', 'a value is missing'],
    ['verb IN (get list', ':1:14: ', "expected ',' or ')'"],
    ['AND verb=get', ':1:1: ', 'AND needs a term'],
    ['verb=get NOT', ':1:13: ', 'a term is missing'],
    ['verb=get | search', ':1:18: ', 'the search is empty'],
  ])('%s', (search, at, what) => {
    const err = splError(search)
    expect(err.code).toBe('PURPLE_RULE_INVALID')
    expect(err.message).toContain(at)
    expect(err.message).toContain(what)
  })
})
