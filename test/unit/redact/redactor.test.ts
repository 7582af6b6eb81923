import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { fingerprint, Redactor } from '../../../src/redact/redactor.js'

const CANARY = 'purple-canary-db-9f8e7d6c5b4a'
const FP = fingerprint(CANARY)
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6eCJ9.c2lnbmF0dXJlLWJ5dGVz'

function redactor(): Redactor {
  return new Redactor({ secrets: [CANARY] })
}

describe('fingerprint', () => {
  it('is the first 12 hex characters of sha256', () => {
    const full = createHash('sha256').update(CANARY).digest('hex')
    expect(fingerprint(CANARY)).toBe(full.slice(0, 12))
    expect(fingerprint(CANARY)).toMatch(/^[0-9a-f]{12}$/)
  })
})

describe('Redactor.redact: registered secrets', () => {
  it('masks the raw value with a fingerprinted placeholder', () => {
    expect(redactor().redact(`db=${CANARY};`)).toBe(`db=[REDACTED:canary:${FP}];`)
  })

  it.each([
    ['base64', Buffer.from(CANARY).toString('base64')],
    ['base64 of echo output', Buffer.from(`${CANARY}\n`).toString('base64')],
    ['base64url', Buffer.from(CANARY).toString('base64url')],
    ['URL-encoded', encodeURIComponent(`${CANARY}/+ &x`)],
  ])('masks the %s form and names the original by fingerprint', (_label, form) => {
    const r = new Redactor({ secrets: [CANARY, `${CANARY}/+ &x`] })
    const out = r.redact(`value: ${form} end`)
    expect(out).not.toContain(form)
    expect(out).toMatch(/\[REDACTED:canary:[0-9a-f]{12}\]/)
  })

  it('masks a secret embedded at any byte offset inside a longer base64 blob', () => {
    const r = redactor()
    for (const prefix of ['', 'a', 'ab', '{"auths":{"reg":{"password":"']) {
      const blob = Buffer.from(`${prefix}${CANARY}"}}}`).toString('base64')
      const out = r.redact(blob)
      expect(out).toContain(`[REDACTED:canary:${FP}]`)
      // What is left cannot be decoded back to the canary.
      expect(Buffer.from(out.replace(/\[REDACTED:[^\]]+\]/g, ''), 'base64').toString()).not.toContain(CANARY)
    }
  })

  it('escapes regex metacharacters in secrets', () => {
    const r = new Redactor({ secrets: ['a.b*c(d)[e]$'] })
    expect(r.redact('aXb*c(d)[e]$ and a.b*c(d)[e]$')).toBe(
      `aXb*c(d)[e]$ and [REDACTED:canary:${fingerprint('a.b*c(d)[e]$')}]`,
    )
  })

  it('masks secrets added after construction, longest form first', () => {
    const r = new Redactor()
    expect(r.redact(`x ${CANARY}`)).toBe(`x ${CANARY}`)
    r.add('purple-canary')
    r.add(CANARY)
    expect(r.redact(`x ${CANARY}`)).toBe(`x [REDACTED:canary:${FP}]`)
  })
})

describe('Redactor.redact: credential shapes', () => {
  const r = new Redactor()
  it.each([
    ['JWT', `token is ${JWT} ok`, JWT, 'jwt'],
    ['AWS access key id', 'AccessKeyId: AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE', 'aws-key'],
    ['AWS session key id', 'ASIAY34FZKBOKMUTVV7A,', 'ASIAY34FZKBOKMUTVV7A', 'aws-key'],
    [
      'AWS secret key',
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'aws-secret',
    ],
    [
      'AWS secret key in JSON',
      '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'aws-secret',
    ],
    [
      'Azure client secret',
      '"password": null, secretText: abc8Q~Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE.d',
      'abc8Q~Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE.d',
      'azure-secret',
    ],
    ['bearer header', 'Authorization: Bearer opaque.tok-123', 'opaque.tok-123', 'bearer'],
    ['lower-case bearer', 'curl -H "authorization: bearer abcd1234"', 'abcd1234', 'bearer'],
    ['--token=x', 'kubectl --token=s3cr3tvalue get pods', 's3cr3tvalue', 'cli-arg'],
    ['--token x', "kubectl --token 's3cr3t value' get pods", 's3cr3t value', 'cli-arg'],
    ['client_secret query', 'POST /token?client_id=a&client_secret=sp-S3cret&x=1', 'sp-S3cret', 'credential'],
    ['password form', 'user=admin&password=hunter2hunter2', 'hunter2hunter2', 'credential'],
    ['password YAML', 'data:\n  password: cGFzc3dvcmQ=\n', 'cGFzc3dvcmQ=', 'credential'],
    [
      'IMDS Token JSON',
      '"Token" : "IQoJb3JpZ2luX2VjEJr//////////wEaCXVz"',
      'IQoJb3JpZ2luX2VjEJr//////////wEaCXVz',
      'credential',
    ],
  ])('masks a %s', (_label, text, secret, kind) => {
    const out = r.redact(text)
    expect(out).not.toContain(secret)
    expect(out).toContain(`[REDACTED:${kind}:${fingerprint(secret)}]`)
  })

  it('masks a whole PEM block, and a block cut off before its END line', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx\nabc=\n-----END RSA PRIVATE KEY-----'
    expect(r.redact(`key:\n${pem}\ndone`)).toBe(`key:\n[REDACTED:pem:${fingerprint(pem)}]\ndone`)
    const cut = r.redact('tail -----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkq", "next": 1')
    expect(cut).not.toContain('MIIEvQ')
    expect(cut).toContain('", "next": 1')
  })

  it('keeps surrounding structure: JSON stays parseable after redaction', () => {
    const json = JSON.stringify({
      cmd: 'curl -d "password=abc123" -H "Authorization: Bearer zzz999"',
      token: JWT,
    })
    const out = r.redact(json)
    expect(() => JSON.parse(out)).not.toThrow()
    expect(out).not.toMatch(/abc123|zzz999|eyJ/)
  })

  it('leaves ordinary text alone', () => {
    const text =
      'kubectl get secrets -A; kind: Secret; secretName: canary-db; tokens: 3 | Bearer\n' +
      'cat: /var/run/secrets/kubernetes.io/serviceaccount/token: No such file or directory'
    expect(r.redact(text)).toBe(text)
  })

  it('is idempotent: a placeholder is never masked again', () => {
    const r2 = redactor()
    const text = `password=${CANARY} aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ${JWT} --token=x1y2z3`
    const once = r2.redact(text)
    expect(r2.redact(once)).toBe(once)
    expect(once).not.toMatch(/\[REDACTED:[^\]]*\[REDACTED/)
  })
})

describe('Redactor.redact: Secrets printed as text', () => {
  const yaml = [
    'apiVersion: v1',
    'data:',
    '  db-url: cG9zdGdyZXM6Ly91OnBAZGI=',
    `  canary: ${Buffer.from(CANARY).toString('base64')}`,
    'kind: Secret',
    'metadata:',
    '  name: canary-db',
  ].join('\n')

  it('masks every data value of `kubectl get secret -o yaml`, whatever the keys are called', () => {
    const out = redactor().redact(yaml)
    expect(out).not.toContain('cG9zdGdyZXM6Ly91OnBAZGI=')
    expect(out).toContain(`  db-url: [REDACTED:secret-data:${fingerprint('cG9zdGdyZXM6Ly91OnBAZGI=')}]`)
    expect(out).toContain(`  canary: [REDACTED:canary:${FP}]`)
    expect(out).toContain('kind: Secret\nmetadata:\n  name: canary-db')
    expect(redactor().redact(out)).toBe(out)
  })

  it('masks data values of `-o json`, keeping a canary fingerprint inside a longer value', () => {
    const json = JSON.stringify({ kind: 'Secret', data: { conn: 'c2VjcmV0', url: `x-${CANARY}` } }, null, 2)
    const out = redactor().redact(json)
    const parsed = JSON.parse(out)
    expect(parsed.data.conn).toBe(`[REDACTED:secret-data:${fingerprint('c2VjcmV0')}]`)
    expect(parsed.data.url).toMatch(
      new RegExp(`^\\[REDACTED:secret-data:[0-9a-f]{12}\\] \\[REDACTED:canary:${FP}\\]$`),
    )
    expect(redactor().redact(out)).toBe(out)
  })

  it('leaves data blocks of other kinds alone', () => {
    const cm = 'kind: ConfigMap\ndata:\n  log-level: debug'
    expect(redactor().redact(cm)).toBe(cm)
  })
})

describe('Redactor.redactValue', () => {
  it('redacts strings deeply and masks credential keys and Secret data without mutating the input', () => {
    const input = {
      command: `echo ${CANARY}`,
      nested: [{ password: 'plain-pass', SecretAccessKey: 'x', client_secret: 'y', Token: 'z', count: 3 }],
      responseObject: {
        kind: 'Secret',
        metadata: { name: 'canary-db' },
        data: { 'db-url': 'cG9zdGdyZXM6Ly8=' },
      },
      list: { kind: 'SecretList', items: [{ metadata: { name: 'a' }, stringData: { note: 'visible?' } }] },
      configMap: { kind: 'ConfigMap', data: { 'log-level': 'debug' } },
    }
    const snapshot = structuredClone(input)
    const out = new Redactor({ secrets: [CANARY] }).redactValue(input)
    expect(input).toEqual(snapshot)
    expect(out.command).toBe(`echo [REDACTED:canary:${FP}]`)
    const n = out.nested[0]!
    expect(n.password).toBe(`[REDACTED:secret:${fingerprint('plain-pass')}]`)
    expect([n.SecretAccessKey, n.client_secret, n.Token]).toEqual(
      ['x', 'y', 'z'].map((v) => `[REDACTED:secret:${fingerprint(v)}]`),
    )
    expect(n.count).toBe(3)
    expect(out.responseObject.metadata.name).toBe('canary-db')
    expect(out.responseObject.data['db-url']).toMatch(/^\[REDACTED:secret:/)
    expect(out.list.items[0]!.stringData.note).toMatch(/^\[REDACTED:secret:/)
    expect(out.configMap.data['log-level']).toBe('debug')
  })

  it('names a registered secret under a credential key as a canary, and keeps shared references', () => {
    const shared = { note: 'same' }
    const out = redactor().redactValue({ password: CANARY, a: shared, b: shared })
    expect(out.password).toBe(`[REDACTED:canary:${FP}]`)
    expect(out.b).toEqual({ note: 'same' })
  })
})

describe('Redactor performance', () => {
  it('redacts 2 MB of mixed text with 200 registered secrets in well under a second', () => {
    const secrets = Array.from({ length: 200 }, (_, i) => `canary-${i}-${'x'.repeat(10)}-${i * 7919}`)
    const r = new Redactor({ secrets })
    const line = `2026-01-01T00:00:00Z get /api/v1/namespaces/t1552/secrets/foo user=admin status=200 ${secrets[7]}\n`
    const text = line.repeat(Math.ceil(2_000_000 / line.length))
    const started = performance.now()
    const out = r.redact(text)
    const ms = performance.now() - started
    expect(out).not.toContain(secrets[7])
    expect(ms).toBeLessThan(1000)
  })
})

describe('redactor and prose', () => {
  it('does not mask words after ids that merely end in -secret or -token', () => {
    const r = new Redactor()
    expect(r.redact('t1552.007.read-secret/describe-secret: rule analytic-b cannot fire')).toBe(
      't1552.007.read-secret/describe-secret: rule analytic-b cannot fire',
    )
    expect(r.redact('client_secret=abcDEF123456')).toMatch(
      /client_secret=\[REDACTED:credential:[0-9a-f]{12}\]/,
    )
    expect(r.redact('secret: hunter2hunter2')).toMatch(/secret: \[REDACTED:credential:/)
  })
})
