import { describe, expect, it } from 'vitest'
import {
  canaryFingerprints,
  fingerprint,
  makeCanaries,
  randomString,
  SECRET_FIELDS,
  victimEnv,
} from '../../../../src/lab/decoys/canaries.js'

describe('canaries', () => {
  it('have the shapes of real credentials', () => {
    const c = makeCanaries('Run 42/x')
    expect(c.awsAccessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/)
    expect(c.awsSessionAccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/)
    expect(c.awsSecretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/)
    expect(c.awsSessionToken).toMatch(/^IQoJb3JpZ2luX2Vj[A-Za-z0-9+/]{340}$/)
    expect(c.azureClientSecret).toMatch(/^[A-Za-z0-9]{3}8Q~[A-Za-z0-9_.~-]{34}$/)
    expect(c.azureTenantId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(c.dbPassword).toMatch(/^[A-Za-z0-9]{24}$/)
    expect(c.awsRoleName).toBe('purplekind-run-42-x-node-role')
  })

  it('differ on every call, even for the same run', () => {
    const a = makeCanaries('r')
    const b = makeCanaries('r')
    for (const field of SECRET_FIELDS) expect(a[field]).not.toBe(b[field])
  })

  it('fingerprint is the 12-hex-digit prefix of SHA-256', () => {
    expect(fingerprint('abc')).toBe('ba7816bf8f01')
    expect(fingerprint('abd')).not.toBe(fingerprint('abc'))
  })

  it('canaryFingerprints covers every secret and reveals none', () => {
    const c = makeCanaries('r')
    const fps = canaryFingerprints(c)
    expect(Object.keys(fps).sort()).toEqual([...SECRET_FIELDS].sort())
    const text = JSON.stringify(fps)
    for (const field of SECRET_FIELDS) expect(text).not.toContain(c[field])
  })

  it('victimEnv carries the secrets the victim leaks', () => {
    const c = makeCanaries('r')
    expect(victimEnv(c)).toEqual({
      AWS_ACCESS_KEY_ID: c.awsAccessKeyId,
      AWS_SECRET_ACCESS_KEY: c.awsSecretAccessKey,
      DB_PASSWORD: c.dbPassword,
      AZURE_CLIENT_SECRET: c.azureClientSecret,
    })
  })

  it('randomString uses only the alphabet, with every symbol reachable', () => {
    const s = randomString(2000, 'ab')
    expect(s).toMatch(/^[ab]{2000}$/)
    expect(new Set(s).size).toBe(2)
  })
})
