// Conformance: every supported modifier has at least one must-match and one must-not-match case.
import { describe, expect, it } from 'vitest'
import {
  configmapListBySa,
  execImds,
  forbiddenSecretGet,
  matches,
  secretGet,
  secretsList,
} from './helpers.js'

/** [name, detection body, raw event, expected] */
type Case = [string, string, Record<string, unknown>, boolean]

const sel = (body: string): string =>
  `sel:\n${body
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\ncondition: sel`

const withB64 = (s: string): Record<string, unknown> => ({ ...secretGet(), requestObject: { data: s } })
const b64 = (s: string, enc: BufferEncoding = 'utf8'): string => Buffer.from(s, enc).toString('base64')

const cases: Case[] = [
  ['equals (default)', sel('verb: list'), secretsList(), true],
  ['equals (default) mismatch', sel('verb: lis'), secretsList(), false],
  ['contains', sel('requestURI|contains: 169.254.169.254'), execImds(), true],
  ['contains mismatch', sel('requestURI|contains: 169.254.170.2'), execImds(), false],
  ['startswith', sel('userAgent|startswith: kubectl/'), secretsList(), true],
  ['startswith mismatch', sel('userAgent|startswith: coredns/'), secretsList(), false],
  ['endswith', sel('requestURI|endswith: /secrets/canary-db'), secretGet(), true],
  ['endswith mismatch', sel('requestURI|endswith: /secrets'), secretGet(), false],
  [
    'all: every value present',
    sel('requestURI|contains|all: [command=curl, 169.254.169.254, security-credentials]'),
    execImds(),
    true,
  ],
  ['all: one value missing', sel('requestURI|contains|all: [command=curl, command=wget]'), execImds(), false],
  ['list without all is OR', sel('requestURI|contains: [command=wget, command=curl]'), execImds(), true],
  ['re', sel("requestURI|re: 'command=(curl|wget)&'"), execImds(), true],
  ['re mismatch', sel("requestURI|re: '^/apis/'"), execImds(), false],
  ['re is case-sensitive by default', sel("verb|re: '^GET$'"), secretGet(), false],
  ['re|i', sel("verb|re|i: '^GET$'"), secretGet(), true],
  ['re|i mismatch', sel("verb|re|i: '^LIST$'"), secretGet(), false],
  [
    're without m: ^ anchors at string start only',
    sel("requestObject.log|re: '^token'"),
    { ...secretGet(), requestObject: { log: 'a\ntoken' } },
    false,
  ],
  [
    're|m: ^ anchors at each line',
    sel("requestObject.log|re|m: '^token'"),
    { ...secretGet(), requestObject: { log: 'a\ntoken' } },
    true,
  ],
  [
    're without s: dot stops at newline',
    sel("requestObject.log|re: 'a.token'"),
    { ...secretGet(), requestObject: { log: 'a\ntoken' } },
    false,
  ],
  [
    're|s: dot matches newline',
    sel("requestObject.log|re|s: 'a.token'"),
    { ...secretGet(), requestObject: { log: 'a\ntoken' } },
    true,
  ],
  ['re (?i) inline flag', sel("verb|re: '(?i)^GET$'"), secretGet(), true],
  ['cidr IPv4', sel('sourceIPs|cidr: 172.16.0.0/12'), secretsList(), true],
  ['cidr IPv4 mismatch', sel('sourceIPs|cidr: 10.0.0.0/8'), secretsList(), false],
  ['cidr IPv4 list', sel('sourceIPs|cidr: [10.0.0.0/8, 192.168.0.0/16]'), configmapListBySa(), true],
  ['cidr IPv6', sel("sourceIPs|cidr: 'fd00:10:244::/48'"), forbiddenSecretGet(), true],
  ['cidr IPv6 mismatch', sel("sourceIPs|cidr: 'fd00:10:245::/48'"), forbiddenSecretGet(), false],
  ['cidr IPv6 does not match IPv4', sel("sourceIPs|cidr: '::/0'"), secretsList(), false],
  [
    'cidr IPv4-mapped IPv6 address',
    sel('sourceIPs|cidr: 169.254.0.0/16'),
    { ...secretGet(), sourceIPs: ['::ffff:169.254.169.254'] },
    true,
  ],
  [
    'base64',
    sel("requestObject.data|base64: 'cat /var/run/secrets/token'"),
    withB64(b64('cat /var/run/secrets/token')),
    true,
  ],
  [
    'base64 mismatch',
    sel("requestObject.data|base64: 'cat /etc/passwd'"),
    withB64(b64('cat /var/run/secrets/token')),
    false,
  ],
  ['base64 is case-sensitive', sel("requestObject.data|base64: 'CAT'"), withB64(b64('cat')), false],
  ...[0, 1, 2].map(
    (pad): Case => [
      `base64offset|contains at offset ${pad}`,
      sel("requestObject.data|base64offset|contains: '169.254.169.254'"),
      withB64(b64(`${'x'.repeat(pad)}curl http://169.254.169.254/latest/`)),
      true,
    ],
  ),
  [
    'base64offset|contains mismatch',
    sel("requestObject.data|base64offset|contains: '169.254.169.254'"),
    withB64(b64('curl http://169.254.170.2/v2/credentials')),
    false,
  ],
  [
    'utf16le|base64offset|contains',
    sel("requestObject.data|utf16le|base64offset|contains: 'Invoke-WebRequest'"),
    withB64(b64('powershell Invoke-WebRequest x', 'utf16le')),
    true,
  ],
  [
    'wide|base64offset|contains mismatch (utf8 payload)',
    sel("requestObject.data|wide|base64offset|contains: 'Invoke-WebRequest'"),
    withB64(b64('powershell Invoke-WebRequest x')),
    false,
  ],
  [
    'utf16be|base64',
    sel("requestObject.data|utf16be|base64: 'ab'"),
    withB64(Buffer.from([0, 0x61, 0, 0x62]).toString('base64')),
    true,
  ],
  [
    'utf16 (BOM)|base64',
    sel("requestObject.data|utf16|base64: 'ab'"),
    withB64(Buffer.from([0xff, 0xfe, 0x61, 0, 0x62, 0]).toString('base64')),
    true,
  ],
  [
    'utf16 (BOM)|base64 mismatch without BOM',
    sel("requestObject.data|utf16|base64: 'ab'"),
    withB64(b64('ab', 'utf16le')),
    false,
  ],
  [
    'windash matches slash form',
    sel("requestObject.cmd|windash|contains: ' -enc '"),
    { ...secretGet(), requestObject: { cmd: 'powershell /enc AAA' } },
    true,
  ],
  [
    'windash matches en-dash form',
    sel("requestObject.cmd|windash|contains: ' -enc '"),
    { ...secretGet(), requestObject: { cmd: 'powershell \u2013enc AAA' } },
    true,
  ],
  [
    'windash mismatch',
    sel("requestObject.cmd|windash|contains: ' -enc '"),
    { ...secretGet(), requestObject: { cmd: 'powershell -nop' } },
    false,
  ],
  ['lt', sel('responseStatus.code|lt: 300'), secretsList(), true],
  ['lt mismatch', sel('responseStatus.code|lt: 200'), secretsList(), false],
  ['lte', sel('responseStatus.code|lte: 200'), secretsList(), true],
  ['lte mismatch', sel('responseStatus.code|lte: 199'), secretsList(), false],
  ['gt', sel('responseStatus.code|gt: 399'), forbiddenSecretGet(), true],
  ['gt mismatch', sel('responseStatus.code|gt: 403'), forbiddenSecretGet(), false],
  ['gte', sel('responseStatus.code|gte: 403'), forbiddenSecretGet(), true],
  ['gte mismatch', sel('responseStatus.code|gte: 404'), forbiddenSecretGet(), false],
  [
    'gte on a numeric string',
    sel('objectRef.resourceVersion|gte: 100'),
    { ...secretGet(), objectRef: { resourceVersion: '4711' } },
    true,
  ],
  ['gte on a non-numeric string', sel('verb|gte: 0'), secretGet(), false],
  ['exists: true', sel('objectRef.name|exists: true'), secretGet(), true],
  ['exists: true on a list request (no name)', sel('objectRef.name|exists: true'), secretsList(), false],
  ['exists: false', sel('objectRef.name|exists: false'), secretsList(), true],
  ['exists: false mismatch', sel('objectRef.name|exists: false'), secretGet(), false],
  [
    'exists: true on an empty string value',
    sel('annotations.authorization.k8s.io/reason|exists: true'),
    secretGet(),
    true,
  ],
  ['cased', sel('user.username|cased: kubernetes-admin'), secretGet(), true],
  ['cased mismatch', sel('user.username|cased: Kubernetes-Admin'), secretGet(), false],
  ['cased|contains', sel("userAgent|cased|contains: 'linux/amd64'"), secretGet(), true],
  ['cased|contains mismatch', sel("userAgent|cased|contains: 'Linux'"), secretGet(), false],
  ['neq', sel('verb|neq: list'), secretGet(), true],
  ['neq mismatch', sel('verb|neq: get'), secretGet(), false],
  ['neq with a list means none of them', sel('verb|neq: [list, watch]'), secretGet(), true],
  ['neq with a list mismatch', sel('verb|neq: [list, get]'), secretGet(), false],
  [
    'fieldref',
    sel('objectRef.namespace|fieldref: requestObject.ns'),
    { ...secretGet(), requestObject: { ns: 'T1552' } },
    true,
  ],
  [
    'fieldref mismatch',
    sel('objectRef.namespace|fieldref: requestObject.ns'),
    { ...secretGet(), requestObject: { ns: 'default' } },
    false,
  ],
  [
    'fieldref with a missing referenced field',
    sel('objectRef.namespace|fieldref: requestObject.ns'),
    secretGet(),
    false,
  ],
  [
    'fieldref|neq',
    sel('objectRef.namespace|fieldref|neq: requestObject.ns'),
    { ...secretGet(), requestObject: { ns: 'default' } },
    true,
  ],
  ['fieldref|contains', sel('requestURI|fieldref|contains: objectRef.name'), secretGet(), true],
]

describe('Sigma modifiers', () => {
  it.each(cases)('%s', (_name, detection, raw, expected) => {
    expect(matches(detection, raw)).toBe(expected)
  })
})
