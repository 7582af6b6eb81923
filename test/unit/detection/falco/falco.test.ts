import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Engine } from '../../../../src/detection/engine.js'
import { compareValue, glob } from '../../../../src/detection/falco/compile.js'
import { ConditionSyntaxError, parseCondition } from '../../../../src/detection/falco/condition.js'
import { rawtimeNs, uriParam } from '../../../../src/detection/falco/fields.js'
import { isFalcoRuleFile, loadFalcoRules } from '../../../../src/detection/falco/index.js'
import { loadRules } from '../../../../src/detection/load-rules.js'
import { audit, conditionRule, execEvent, fixture, load, RULES_DIR, rule } from './helpers.js'

describe('condition syntax', () => {
  it('binds not tighter than and, and tighter than or', () => {
    expect(parseCondition('a or b and not c')).toEqual({
      kind: 'or',
      items: [
        { kind: 'macro', name: 'a' },
        {
          kind: 'and',
          items: [
            { kind: 'macro', name: 'b' },
            { kind: 'not', item: { kind: 'macro', name: 'c' } },
          ],
        },
      ],
    })
  })

  it('reads operators written without spaces, field arguments, quoted and bare values', () => {
    expect(parseCondition('ka.target.namespace!=kube-system')).toMatchObject({
      kind: 'check',
      op: '!=',
      values: [{ text: 'kube-system', quoted: false }],
    })
    expect(parseCondition('jevt.value[/requestObject/spec/tls] exists')).toMatchObject({
      field: { name: 'jevt.value', arg: '/requestObject/spec/tls' },
      op: 'exists',
    })
    expect(parseCondition('ka.user.name in ("a b", c,\'d\')')).toMatchObject({
      values: [
        { text: 'a b', quoted: true },
        { text: 'c', quoted: false },
        { text: 'd', quoted: true },
      ],
    })
    expect(parseCondition('tolower(ka.verb) = get')).toMatchObject({
      field: { name: 'ka.verb', transformers: ['tolower'] },
    })
  })

  it('names the column of a syntax error', () => {
    expect(() => parseCondition('ka.verb = get and (ka.verb = list')).toThrow(
      /expected '\)' at end of condition/,
    )
    expect(() => parseCondition('ka.verb in get, list)')).toThrow(ConditionSyntaxError)
    expect(() => parseCondition('ka.verb = "open')).toThrow(/unterminated string starting at column 11/)
  })

  it('bounds nesting instead of overflowing the stack', () => {
    const deep = `${'('.repeat(5000)}a${')'.repeat(5000)}`
    expect(() => parseCondition(deep)).toThrow(/nested deeper than/)
  })
})

describe('rule files', () => {
  it('are told apart from Sigma files by shape', () => {
    expect(isFalcoRuleFile(fixture('1-secrets.yaml').text)).toBe(true)
    expect(isFalcoRuleFile('title: x\nlogsource:\n  product: kubernetes\ndetection: {}\n')).toBe(false)
  })

  it('load lists, nested lists, macros and rules; alerts render the output', () => {
    const r = rule(fixture('1-secrets.yaml').text, 'Secret Read By Person')
    expect(r).toMatchObject({
      language: 'falco',
      level: 'high',
      tags: ['k8s', 'T1552.007'],
      sources: ['k8s-audit'],
    })
    const e = audit()
    expect(r.match(e)).toBe(true)
    expect(r.describe?.(e)).toBe(
      'Secret read (user=mallory@example.com as=<NA> secret=purple-app/db verb=get groups=(developers,system:authenticated))',
    )
    // A nested list reference (noisy_users → lab_admins) excludes its members.
    expect(r.match(audit({ user: { username: 'purplekind-admin' } }))).toBe(false)
    expect(r.match(audit({ user: { username: 'system:serviceaccount:a:b' } }))).toBe(false)
    expect(r.match(audit({ stage: 'ResponseStarted' }))).toBe(false)
    expect(r.match(audit({ verb: 'watch' }))).toBe(false)
  })

  it('apply a later file’s append/override to lists, macros, exceptions and enabled', () => {
    const { rules, issues } = loadFalcoRules([fixture('1-secrets.yaml'), fixture('2-local-overrides.yaml')])
    expect(issues).toEqual([])
    const byId = new Map(rules.map((r) => [r.id, r]))
    const read = byId.get('Secret Read By Person')!
    expect(read.match(audit({ user: { username: 'alice' } }))).toBe(false) // appended to lab_admins
    expect(read.match(audit({ verb: 'watch' }))).toBe(true) // appended to macro reads
    const exec = byId.get('Exec Into Pod')!
    const started = (ns: string, pod: string) =>
      execEvent('ResponseStarted', 'command=id', {
        objectRef: { resource: 'pods', namespace: ns, name: pod, subresource: 'exec' },
      })
    expect(exec.match(started('purple-app', 'web-0'))).toBe(true)
    expect(exec.match(started('purple-app', 'debug-1'))).toBe(false) // appended exception value
    expect(exec.match(started('kube-system', 'coredns-abc'))).toBe(false) // original exception value
    expect(exec.match(started('default', 'coredns-abc'))).toBe(true) // both fields must match
    const catchAll = byId.get('Disabled Catch All')!
    expect(catchAll.match(audit({ verb: 'delete' }))).toBe(true) // enabled, condition appended
    expect(catchAll.match(audit({ verb: 'get' }))).toBe(false)
  })

  it('never fire a disabled rule', () => {
    const r = rule(fixture('1-secrets.yaml').text, 'Disabled Catch All')
    expect(r.match(audit())).toBe(false)
  })

  it('report unsupported fields, operators and transformers with file, rule and field', () => {
    const { rules, issues } = load(`
- macro: m
  condition: proc.name = curl
- rule: Uses Syscall Field
  desc: d
  condition: ka.verb = get and m
  output: o
  priority: INFO
  source: k8s_audit
- rule: Uses Regex
  desc: d
  condition: ka.uri regex "^/api"
  output: o
  priority: INFO
  source: k8s_audit
- rule: Uses b64
  desc: d
  condition: b64(ka.uri) = x
  output: o (%evt.time)
  priority: INFO
  source: k8s_audit
- rule: Syscall Rule
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
- rule: Disabled Syscall Rule
  desc: left out silently, as it can neither fire nor be evaluated
  condition: evt.type = open
  output: o
  priority: INFO
  enabled: false
`)
    expect(rules).toEqual([])
    const text = issues.map((i) => `${i.file}:${i.path}: ${i.message} [${i.code}]`)
    expect(text).toEqual([
      "inline.yaml:[1](rule 'Uses Syscall Field').condition: rule 'Uses Syscall Field': unsupported field 'proc.name' (see docs/falco.md for the supported fields) [PURPLE_RULE_UNSUPPORTED]",
      "inline.yaml:[2](rule 'Uses Regex').condition: rule 'Uses Regex': unsupported operator 'regex' on ka.uri [PURPLE_RULE_UNSUPPORTED]",
      "inline.yaml:[3](rule 'Uses b64').condition: rule 'Uses b64': unsupported field transformer 'b64(…)' on ka.uri [PURPLE_RULE_UNSUPPORTED]",
      "inline.yaml:[3](rule 'Uses b64').output: rule 'Uses b64': unsupported field 'evt.time' (see docs/falco.md for the supported fields) [PURPLE_RULE_UNSUPPORTED]",
      "inline.yaml:[4](rule 'Syscall Rule').source: rule 'Syscall Rule' is for source 'syscall'; purplekind evaluates only k8s_audit (audit) rules [PURPLE_RULE_UNSUPPORTED]",
    ])
  })

  it('report unknown macros and lists, self-referencing macros, bad appends and plugin requirements', () => {
    const { issues } = load(`
- required_plugin_versions:
    - name: k8saudit
      version: 9.0.0
    - name: cloudtrail
      version: 0.1.0
- list: l
  items: [a]
  append: true
- macro: loop
  condition: loop and ka.verb = get
- rule: R
  desc: d
  condition: nope or loop or ka.verb in missing_list
  output: o
  priority: INFO
  source: k8s_audit
`)
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      '[0].required_plugin_versions[0]: requires plugin k8saudit ≥ 9.0.0; purplekind emulates only k8saudit 0.18.0, json 0.7.4',
      '[0].required_plugin_versions[1]: requires plugin cloudtrail ≥ 0.1.0; purplekind emulates only k8saudit 0.18.0, json 0.7.4',
      "[1](list 'l'): appends to list 'l', which is not defined before it",
      "[3](rule 'R').condition: rule 'R': unknown macro 'nope'",
      "[3](rule 'R').condition: rule 'R': macro 'loop' refers to itself (loop → loop)",
      "[3](rule 'R').condition: rule 'R': unknown list 'missing_list'",
    ])
  })

  it('accept an alternative plugin that purplekind emulates', () => {
    const { issues } = load(`
- required_plugin_versions:
    - name: k8saudit-eks
      version: 0.1.0
      alternatives:
        - name: k8saudit
          version: 0.18.0
`)
    expect(issues).toEqual([])
  })
})

describe('operators', () => {
  const check = (cond: string, e = audit()) => conditionRule(cond).match(e)

  it('compare strings exactly, and missing fields never match (but `not` of them does)', () => {
    expect(check('ka.verb = get')).toBe(true)
    expect(check('ka.verb = GET')).toBe(false)
    expect(check('ka.verb != list')).toBe(true)
    expect(check('ka.impuser.name = x')).toBe(false)
    expect(check('ka.impuser.name != x')).toBe(false)
    expect(check('not ka.impuser.name = x')).toBe(true)
    expect(check('ka.impuser.name exists')).toBe(false)
    expect(check('ka.target.name exists')).toBe(true)
  })

  it('contains, icontains, startswith, endswith and transformers', () => {
    expect(check('ka.useragent contains "linux/amd64"')).toBe(true)
    expect(check('ka.useragent contains KUBECTL')).toBe(false)
    expect(check('ka.useragent icontains KUBECTL')).toBe(true)
    expect(check('ka.uri startswith /api/v1/namespaces')).toBe(true)
    expect(check('ka.uri endswith /db')).toBe(true)
    expect(check('toupper(ka.verb) = GET')).toBe(true)
    expect(check('basename(ka.uri) = db')).toBe(true)
  })

  it('numbers compare as numbers: the response code is the string "200"', () => {
    expect(check('ka.response.code = 200')).toBe(true)
    expect(check('ka.response.code startswith 2')).toBe(true)
    expect(check('ka.response.code < 300')).toBe(true)
    expect(check('ka.response.code >= 1000')).toBe(false)
  })

  it('in means every value of a list field is in the set; intersects means any', () => {
    expect(check('ka.user.groups intersects (developers, admins)')).toBe(true)
    expect(check('ka.user.groups in (developers, admins)')).toBe(false)
    expect(check('ka.user.groups in (developers, system:authenticated, x)')).toBe(true)
    expect(check('ka.verb in (list, get)')).toBe(true)
    expect(check('ka.verb intersects (get)')).toBe(true)
    expect(check('ka.verb in ()')).toBe(false)
  })

  it('pmatch matches a path or anything under it', () => {
    const m = compareValue('pmatch', ['/etc', '/var/run/docker.sock'])
    expect(['/etc', '/etc/passwd', '/var/run/docker.sock'].map(m)).toEqual([true, true, true])
    expect(['/etcetera', '/var/run', '/'].map(m)).toEqual([false, false, false])
    expect(compareValue('pmatch', ['/'])('/anything')).toBe(true)
  })

  it('glob handles *, ?, sets, ranges and escapes without backtracking blow-up', () => {
    expect(glob('kubectl/*', 'kubectl/v1.36.3', false)).toBe(true)
    expect(glob('v1.?', 'v1.3', false)).toBe(true)
    expect(glob('[a-c]x', 'bx', false)).toBe(true)
    expect(glob('[!a-c]x', 'bx', false)).toBe(false)
    expect(glob('a\\*', 'a*', false)).toBe(true)
    expect(glob('a\\*', 'ab', false)).toBe(false)
    expect(glob('KUBE*', 'kubectl', true)).toBe(true)
    const hostile = `${'*a'.repeat(200)}b`
    const started = performance.now()
    expect(glob(hostile, 'a'.repeat(20_000), false)).toBe(false)
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})

describe('fields', () => {
  it('ka.uri.param gives the first value, decoded like Go url.ParseQuery', () => {
    expect(
      uriParam('/x/exec?command=curl&command=http%3A%2F%2F169.254.169.254%2F&container=app', 'command'),
    ).toBe('curl')
    expect(uriParam('/x?command=a+b%21', 'command')).toBe('a b!')
    expect(uriParam('/x?command=bad%zz', 'command')).toBeUndefined()
    expect(uriParam('/x?a=1;b=2', 'a')).toBeUndefined()
    expect(uriParam('/x', 'a')).toBeUndefined()
  })

  it('jevt.value follows a JSON pointer; non-strings render as JSON', () => {
    const r = rule(`
- rule: R
  desc: d
  condition: jevt.value[/responseStatus/code] = 200 and jevt.value[/user/groups/0] = developers
  output: "%jevt.value[/objectRef] %jevt.rawtime"
  priority: INFO
  source: k8s_audit
`)
    const e = audit()
    expect(r.match(e)).toBe(true)
    expect(r.describe?.(e)).toBe(
      '{"resource":"secrets","namespace":"purple-app","name":"db","apiVersion":"v1"} 1795769306197767000',
    )
    expect(rawtimeNs('2026-11-27T08:48:26Z')).toBe('1795769306000000000')
    expect(rawtimeNs('2026-11-27T10:48:26.000000001+02:00')).toBe('1795769306000000001')
    expect(rawtimeNs('2026-11-27T08:48:26.1234567890Z')).toBeUndefined()
    expect(rawtimeNs(`T${'9'.repeat(100_000)}`)).toBeUndefined()
  })

  it('pod request fields read the request object of a create', () => {
    const created = audit({
      verb: 'create',
      objectRef: { resource: 'pods', namespace: 'p', name: 'x' },
      requestObject: {
        spec: {
          hostNetwork: true,
          volumes: [
            { name: 'h', hostPath: { path: '/var/run/docker.sock' } },
            { name: 'e', emptyDir: {} },
          ],
          containers: [
            { name: 'a', image: 'docker.io/falcosecurity/falco:0.40', securityContext: { privileged: true } },
            { name: 'b', image: 'busybox@sha256:abc', command: ['sh', '-c', 'id'] },
          ],
        },
      },
      responseObject: { metadata: { name: 'x' } },
    })
    const fires = (cond: string) => conditionRule(cond).match(created)
    expect(fires('ka.req.pod.host_network = true')).toBe(true)
    expect(fires('ka.req.pod.volumes.hostpath intersects (/var/run/docker.sock)')).toBe(true)
    expect(fires('ka.req.pod.volumes.volume_type in (hostPath, emptyDir)')).toBe(true)
    expect(fires('ka.req.pod.containers.privileged intersects (true)')).toBe(true)
    expect(fires('ka.req.container.privileged = true')).toBe(true)
    expect(fires('ka.req.pod.containers.image.repository in (docker.io/falcosecurity/falco, busybox)')).toBe(
      true,
    )
    expect(fires('ka.req.pod.containers.name[1] = b')).toBe(true)
    expect(fires('ka.req.pod.containers.command = "sh -c id"')).toBe(true)
    expect(fires('ka.req.volume.hostpath[/var/run/*] = true')).toBe(true)
    expect(fires('ka.target.pod.name = x')).toBe(true)
    expect(fires('ka.req.pod.initContainers.image exists')).toBe(false)
  })

  it('ka.sourceips follows the plugin (which reads requestObject.rules[*].sourceIPs), so is absent on real events', () => {
    expect(conditionRule('ka.sourceips exists').match(audit())).toBe(false)
  })
})

describe('loader integration', () => {
  it('loadRules compiles Falco files next to Sigma files, and the engine puts the output in the alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'falco-rules-'))
    writeFileSync(join(dir, 'a-falco.yaml'), fixture('1-secrets.yaml').text)
    writeFileSync(join(dir, 'b-local.yaml'), fixture('2-local-overrides.yaml').text)
    writeFileSync(
      join(dir, 'c-sigma.yml'),
      'title: Sigma Secret Get\nid: sigma-secret-get\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  sel:\n    verb: get\n    objectRef.resource: secrets\n  condition: sel\nlevel: medium\n',
    )
    const set = await loadRules([dir])
    expect(set.rules.map((r) => `${r.language}:${r.id}`).sort()).toEqual([
      'falco:Disabled Catch All',
      'falco:Exec Into Pod',
      'falco:Secret Read By Person',
      'sigma:sigma-secret-get',
    ])
    expect(set.files).toHaveLength(3)
    const alerts = new Engine(set).evaluateEvents([audit()])
    const falco = alerts.find((a) => a.rule === 'Secret Read By Person')
    expect(falco?.message).toMatch(/^Secret read \(user=mallory@example.com/)
    expect(alerts.find((a) => a.rule === 'sigma-secret-get')?.message).toBeUndefined()
  })

  it('loadRules reports Falco problems as issues naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'falco-bad-'))
    writeFileSync(
      join(dir, 'bad.yaml'),
      '- rule: Bad\n  desc: d\n  condition: ka.nope = 1\n  output: o\n  priority: INFO\n  source: k8s_audit\n',
    )
    await expect(loadRules([dir])).rejects.toThrow(
      /bad\.yaml:\[0\]\(rule 'Bad'\)\.condition: .*unsupported field 'ka\.nope'/,
    )
  })

  it('the fixtures directory loads as one rule set', async () => {
    const set = await loadRules([RULES_DIR])
    expect(set.rules.every((r) => r.language === 'falco')).toBe(true)
  })

  it('exec rule fires on the streaming stage with argv[0] in the message', () => {
    const r = rule(fixture('1-secrets.yaml').text, 'Exec Into Pod')
    const started = execEvent('ResponseStarted', 'command=cat&command=%2Fetc%2Fhostname&container=app')
    expect(r.match(started)).toBe(true)
    expect(r.match(execEvent('ResponseComplete', 'command=cat'))).toBe(false)
    expect(r.describe?.(started)).toBe('Exec (pod=web-0 cmd=cat container=app)')
    expect(r.nearMiss?.(execEvent('ResponseComplete', 'command=cat'))).toMatchObject({
      field: 'jevt.value',
      expected: 'jevt.value[/stage] = ResponseStarted',
      actual: 'ResponseComplete',
    })
  })
})
