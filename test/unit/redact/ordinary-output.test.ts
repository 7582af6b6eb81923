// The redactor masks secrets, not output: ordinary kubectl/aws/az/docker text with numbers, dates, uids
// and credential words in prose passes through unchanged (issue #10 item 10: `password: 16 bytes` once
// became a redaction token), while the lab's own canaries of every kind are still masked inside it.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type Canaries, canaryValues, makeCanaries } from '../../../src/lab/decoys/canaries.js'
import { fingerprint, isOrdinaryValue, Redactor } from '../../../src/redact/redactor.js'
import { CANARY_KINDS } from '../../../src/scenario/schema.js'

const corpus = readFileSync('test/fixtures/redact/ordinary-cli-output.txt', 'utf8')
const labRedactor = (c: Canaries) => new Redactor({ secrets: canaryValues(c) })

/** How each canary kind a scenario can ask for shows up in real output (secrets, logs, CLI config). */
function leaks(c: Canaries): Record<(typeof CANARY_KINDS)[number], { text: string; secrets: string[] }> {
  return {
    aws: {
      text: `AWS_ACCESS_KEY_ID=${c.awsAccessKeyId}\nAWS_SECRET_ACCESS_KEY=${c.awsSecretAccessKey}`,
      secrets: [c.awsAccessKeyId, c.awsSecretAccessKey],
    },
    azure: {
      text: `{"clientId": "${c.azureClientId}", "clientSecret": "${c.azureClientSecret}", "tenantId": "${c.azureTenantId}"}`,
      secrets: [c.azureClientId, c.azureClientSecret],
    },
    'db-password': {
      text: `connecting to postgres://payments:${c.dbPassword}@db:5432/payments (attempt 1 of 5)`,
      secrets: [c.dbPassword],
    },
    token: {
      text: `session token: ${c.awsSessionToken}\nexpires in 3600s`,
      secrets: [c.awsSessionToken],
    },
  }
}

describe('redaction of ordinary output', () => {
  it('leaves a corpus of kubectl, aws, az, docker and kubelet output untouched, canaries registered', () => {
    for (let i = 0; i < 20; i++) expect(labRedactor(makeCanaries(`run-${i}`)).redact(corpus)).toBe(corpus)
  })

  it('names the line that motivated this: password: 16 bytes', () => {
    const r = new Redactor()
    expect(r.redact('password:  16 bytes')).toBe('password:  16 bytes')
    expect(r.redact('--token 16')).toBe('--token 16')
    expect(r.redact('Use a bearer token; basic authentication is off')).toBe(
      'Use a bearer token; basic authentication is off',
    )
  })

  it.each(CANARY_KINDS)('still masks %s canaries inside that output, by fingerprint', (kind) => {
    const c = makeCanaries('run-x')
    const leak = leaks(c)[kind]
    const text = `${corpus}\n${leak.text}\n`
    const out = labRedactor(c).redact(text)
    for (const s of leak.secrets) {
      expect(out).not.toContain(s)
      expect(out).toContain(fingerprint(s))
    }
    expect(out.startsWith(corpus)).toBe(true) // everything before the leak is unchanged
  })

  it('still masks real-looking values after credential words (the heuristic is not disabled)', () => {
    const r = new Redactor()
    expect(r.redact('password: hunter22')).toMatch(/password: \[REDACTED:credential:/)
    expect(r.redact('--token s3cr3t-v4lue')).toMatch(/--token \[REDACTED:cli-arg:/)
    expect(r.redact('Authorization: Bearer abcd.efgh-1234')).toMatch(/Bearer \[REDACTED:bearer:/)
  })

  it.each([
    ['16', true],
    ['3600s', true],
    ['1.5', true],
    ['10Gi', true],
    ['99%', true],
    ['2026-11-30T02:15:03Z', true],
    ['2026-11-30', true],
    ['none', true],
    ['REDACTED', true],
    ['hunter22', false],
    ['a1b2c3d4', false],
    ['1234567890123', false], // a long number may well be a secret
  ])('isOrdinaryValue(%s) = %s', (v, want) => {
    expect(isOrdinaryValue(v)).toBe(want)
  })
})
