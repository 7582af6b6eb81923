// The prefilter must never make a rule miss an event: rule matches ⇒ one literal occurs in the raw line.
import { describe, expect, it } from 'vitest'
import { parseSigma } from '../../../../src/detection/sigma/index.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'
import { ALL_SAMPLES, auditEvent, detectionRule } from './helpers.js'

const prefilterOf = (detection: string) => detectionRule(detection).prefilter

describe('prefilter derivation', () => {
  it.each([
    ['sel:\n  verb: list\n  objectRef.resource: secrets\ncondition: sel', [['"list"'], ['"secrets"']]],
    ['sel:\n  objectRef.resource: secrets\n  objectRef.subresource: exec\ncondition: sel', [['"secrets"']]],
    ['sel:\n  verb: [get, list, watch]\ncondition: sel', [['"get"', '"list"', '"watch"']]],
    ["sel:\n  userAgent|startswith: 'curl/'\ncondition: sel", [['"curl']]],
    ["sel:\n  objectRef.name|endswith: '-db'\ncondition: sel", [['-db"']]],
    ["sel:\n  objectRef.name: '1234'\ncondition: sel", [['1234']]],
    ["sel:\n  objectRef.name: 'true'\ncondition: sel", [['true']]],
    ['sel:\n  responseStatus.code: [401, 403]\ncondition: sel', [['401', '403']]],
    ["sel:\n  requestURI|contains: '/namespaces/t1552/secrets'\ncondition: sel", [['namespaces']]],
    [
      "sel:\n  requestURI|contains|all: ['command=curl', '169.254.169.254']\ncondition: sel",
      [['169.254.169.254']],
    ],
    ["sel:\n  userAgent: 'kubectl/*'\ncondition: sel", [['"kubectl']]],
    ['a:\n  verb: list\nb:\n  verb: watch\ncondition: a or b', [['"list"', '"watch"']]],
    ['a:\n  verb: list\nb:\n  objectRef.resource: secrets\ncondition: a and not b', [['"list"']]],
    ['a:\n  verb: list\nb:\n  objectRef.resource: secrets\ncondition: 1 of them', [['"list"', '"secrets"']]],
  ])('%s', (detection, oneOf) => {
    expect(oneOf.map((o) => [...o].sort())).toContainEqual([...(prefilterOf(detection) ?? [])].sort())
  })

  it.each([
    ['not only', 'sel:\n  verb: list\ncondition: not sel'],
    ['or with an unfilterable side', "a:\n  verb: list\nb:\n  requestURI|re: 'x'\ncondition: a or b"],
    ['derived field', "sel:\n  Command|contains: 'kubectl get secrets'\ncondition: sel"],
    ['derived field action', 'sel:\n  action: exec_create\ncondition: sel'],
    ['envelope field', "sel:\n  sourcetype: 'kubernetes:api'\ncondition: sel"],
    ['exists', 'sel:\n  objectRef.name|exists: true\ncondition: sel'],
    ['null', 'sel:\n  objectRef.name: null\ncondition: sel'],
    ['null among values', 'sel:\n  objectRef.name: [null, canary-db]\ncondition: sel'],
    ['numeric modifier', 'sel:\n  responseStatus.code|gte: 400\ncondition: sel'],
    ['short number value', 'sel:\n  responseStatus.code: 40\ncondition: sel'],
    ['fractional number value', 'sel:\n  responseStatus.code: 403.5\ncondition: sel'],
    ['base64', "sel:\n  requestObject.data|base64offset|contains: 'curl http'\ncondition: sel"],
    ['windash', "sel:\n  requestObject.cmd|windash|contains: ' -enc '\ncondition: sel"],
    ['re', "sel:\n  requestURI|re: 'secrets'\ncondition: sel"],
    ['fieldref', 'sel:\n  objectRef.namespace|fieldref: objectRef.name\ncondition: sel'],
    ['neq', 'sel:\n  verb|neq: get\ncondition: sel'],
    ['keywords', 'kw:\n  - canary-db\ncondition: kw'],
    ['escaped characters only', "sel:\n  requestURI|contains: '&/<>'\ncondition: sel"],
    ['too short', "sel:\n  verb: 'g?t'\ncondition: sel"],
  ])('none for %s', (_name, detection) => {
    expect(prefilterOf(detection)).toBeUndefined()
  })
})

/** JSON lines as different encoders write them: Node, Go (escapes & < >), and an encoder escaping `/`. */
const ENCODERS: Record<string, (raw: unknown) => string> = {
  node: (raw) => JSON.stringify(raw),
  go: (raw) => JSON.stringify(raw).replace(/&/g, '\\u0026').replace(/</g, '\\u003c').replace(/>/g, '\\u003e'),
  slashes: (raw) => JSON.stringify(raw, null, 1).replace(/\//g, '\\/'),
}

const RULES = `title: r1
detection:
  sel:
    verb: list
    objectRef.resource: secrets
  condition: sel
---
title: r2
detection:
  sel:
    objectRef.subresource: exec
    requestURI|contains|all: ['command=curl', '169.254.169.254']
  condition: sel
---
title: r3
detection:
  sel:
    requestURI|contains: '/secrets/canary-*'
  filter:
    user.username|startswith: 'system:serviceaccount:'
  condition: sel and not filter
---
title: r4
detection:
  a:
    user.groups: 'system:AUTHENTICATED'
  b:
    userAgent|startswith: 'KUBECTL/'
  condition: a and b
---
title: r5
detection:
  sel:
    - objectRef.resource: [secrets, configmaps]
      verb: [get, list]
    - requestURI|endswith: '&tty=true'
  condition: sel
---
title: r6
detection:
  sel1:
    requestURI|contains: 'command=cat&command=%2Fvar%2Frun'
  sel2:
    annotations.authorization.k8s.io/decision: forbid
  condition: 1 of sel*
---
title: r7
detection:
  sel:
    requestURI: '*secrets?limit=500'
    verb|cased: list
  condition: sel
---
title: r8
detection:
  sel:
    user.username: 'system:anonymous'
    sourceIPs|cidr: 'fd00::/8'
  condition: sel
`

/** Sample events plus variants that stress the prefilter: case changes, escapes, arrays. */
function corpus(): TelemetryEvent[] {
  const raws: Record<string, unknown>[] = Object.values(ALL_SAMPLES).map((f) => f())
  const more = raws.flatMap((r) => [
    { ...r, verb: String(r.verb).toUpperCase() },
    { ...r, userAgent: 'KUBECTL/v1.35.0 <linux> & co' },
    { ...r, requestURI: `${String(r.requestURI)}&tty=true` },
    { ...r, user: { username: 'System:ServiceAccount:x:y', groups: ['SYSTEM:Authenticated'] } },
    { ...r, objectRef: { ...(r.objectRef as object), resource: 'Secrets' } },
  ])
  return [...raws, ...more].map((raw) => auditEvent(raw))
}

describe('prefilter safety', () => {
  const rules = parseSigma(RULES, 'rules/prefilter.yml').rules
  const events = corpus()

  it('most of these rules get a prefilter (so the test exercises it)', () => {
    expect(rules.filter((r) => r.prefilter).map((r) => r.id)).toEqual([
      'prefilter#1',
      'prefilter#2',
      'prefilter#3',
      'prefilter#4',
      'prefilter#5',
      'prefilter#6',
      'prefilter#7',
      'prefilter#8',
    ])
  })

  it.each(Object.keys(ENCODERS))('a rule that matches always finds a literal (%s encoding)', (encoder) => {
    let matched = 0
    for (const event of events) {
      const line = ENCODERS[encoder]!(event.raw).toLowerCase()
      for (const rule of rules) {
        if (!rule.match(event)) continue
        matched++
        expect(
          rule.prefilter!.some((lit) => line.includes(lit)),
          `${rule.id} on ${line}`,
        ).toBe(true)
      }
    }
    expect(matched).toBeGreaterThan(15)
  })

  it('literals are lower-case', () => {
    for (const r of rules) for (const lit of r.prefilter ?? []) expect(lit).toBe(lit.toLowerCase())
  })
})
