// Pipeline commands by hand, and an ESCU-shaped search (own fixture) over the shipped recording.
import { describe, expect, it } from 'vitest'
import { compileSearch } from '../../../../../src/detection/spl/index.js'
import { parseMacrosConf } from '../../../../../src/detection/spl/macros.js'
import type { CompiledRule } from '../../../../../src/detection/types.js'
import { firingSteps, recordingEvents } from './run-recording.js'

const macros = new Map(
  parseMacrosConf(
    [
      '[audit]',
      'definition = sourcetype="kubernetes:api"',
      '[secret_reads_filter]',
      'definition = search user!="system:*"',
      '[by_verb(1)]',
      'args = v',
      'definition = verb=$v$',
    ].join('\n'),
    'macros.conf',
  ).map((m) => [`${m.name}(${m.args.length})`, m]),
)

const rule = (search: string): CompiledRule =>
  compileSearch(search, 't.spl', { id: 't', title: 't', tags: [] }, { macros })
const rows = (search: string) => rule(search).aggregate?.(recordingEvents().filter(rule(search).match)) ?? []

describe('SPL pipeline commands', () => {
  it('stats count by a multivalue {} path, rename, where', () => {
    const out = rows(
      '`audit` objectRef.resource=secrets | stats count dc(verb) as verbs by sourceIPs{} | rename sourceIPs{} as src_ip | where count > 5',
    )
    expect(out).toHaveLength(1)
    expect(out[0]?.fields).toMatchObject({ src_ip: '127.0.0.1', count: 36 })
    expect(out[0]?.events).toHaveLength(36)
  })

  it('eval functions, fillnull, dedup, table, fields -', () => {
    const out = rows(
      '`audit` `by_verb(get)` objectRef.resource=secrets | fillnull value=none objectRef.name | eval who=lower(coalesce(impersonatedUser.username, user.username)), n=len(who), up=upper(substr(who, 1, 3)), ok=if(match(who, "^mallory@"), "yes", "no") | dedup who | table who n up ok',
    )
    expect(out.map((r) => r.fields)).toEqual([
      { who: 'mallory@example.com', n: 19, up: 'MAL', ok: 'yes' },
      { who: 'system:serviceaccount:purple-app:app-controller', n: 47, up: 'SYS', ok: 'no' },
    ])
  })

  it('an unknown macro is a coded error at its line:column', () => {
    expect(() => rule('verb=get\n  | search `nope`')).toThrow(/t\.spl:2:12: unknown macro 'nope'/)
  })

  it('a macro that uses itself stops at the nesting cap', () => {
    const loop = new Map(parseMacrosConf('[a]\ndefinition = `a`\n', 'm.conf').map((m) => [`${m.name}(0)`, m]))
    expect(() => compileSearch('`a`', 'l.spl', { id: 'l', title: 'l', tags: [] }, { macros: loop })).toThrow(
      /nested deeper than 20/,
    )
  })

  it('regex and match go through the linear matcher: backtracking-only syntax is refused', () => {
    expect(() => rule('verb=get | regex user.username="(a)\\1"')).toThrow(/PURPLE_SPL_UNSUPPORTED/)
  })
})

describe('ESCU-shaped search over the T1552.007 recording', () => {
  it('secret reads by an unusual user agent fire on the steps that read secrets with kubectl', () => {
    const r = rule(
      '`audit` objectRef.resource=secrets verb=get | search NOT userAgent="payments-api/*" | fillnull | stats count by objectRef.name objectRef.namespace sourceIPs{} user.groups{} user.username userAgent verb | rename sourceIPs{} as src_ip, user.username as user | `secret_reads_filter`',
    )
    const { steps, alerts } = firingSteps([r])
    expect(steps.get('t')).toEqual([
      't1552.007.read-secret/describe-secret',
      't1552.007.read-secret/get-secret-yaml',
      't1552.007.analytic-a-writes/human-patches-secret',
      't1552.007.analytic-a-writes/human-deletes-secret',
    ])
    expect(alerts.every((a) => (a.auditIDs?.length ?? 0) > 0 && a.fields?.user === 'purplekind-admin')).toBe(
      true,
    )
  })
})
