// Per-run canary credentials. They are fake but shaped like the real thing (AKIA/ASIA key ids, 40-char
// secrets, session tokens, Azure `…8Q~…` client secrets) so that pattern-based redaction is exercised;
// reports refer to them only by fingerprint.
import { randomBytes, randomUUID } from 'node:crypto'
import { fingerprint } from '../../redact/redactor.js'

export interface Canaries {
  readonly runId: string
  /** Long-term IAM user key (AKIA…) the victim container leaks in its logs. */
  readonly awsAccessKeyId: string
  readonly awsSecretAccessKey: string
  /** Role session credentials (ASIA… + token) the IMDS decoy hands out. */
  readonly awsSessionAccessKeyId: string
  readonly awsSessionSecretAccessKey: string
  readonly awsSessionToken: string
  readonly awsRoleName: string
  readonly azureTenantId: string
  readonly azureClientId: string
  readonly azureClientSecret: string
  readonly dbPassword: string
}

/** The credential values of a canary set (everything but identifiers that are not secret). */
export const SECRET_FIELDS = [
  'awsSecretAccessKey',
  'awsSessionSecretAccessKey',
  'awsSessionToken',
  'azureClientSecret',
  'dbPassword',
] as const satisfies readonly (keyof Canaries)[]

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const SECRET_CHARS = `${ALNUM}+/`
const AZURE_CHARS = `${ALNUM}_-.~`

/** Uniformly random string over `alphabet` (rejection sampling keeps it unbiased). */
export function randomString(length: number, alphabet: string): string {
  const limit = 256 - (256 % alphabet.length)
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length]
    }
  }
  return out
}

/** A DNS/IAM-safe slug of the run id, for names such as the IAM role. */
function slug(runId: string): string {
  return (
    runId
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 32) || 'run'
  )
}

export function makeCanaries(runId: string): Canaries {
  return {
    runId,
    awsAccessKeyId: `AKIA${randomString(16, UPPER_ALNUM)}`,
    awsSecretAccessKey: randomString(40, SECRET_CHARS),
    awsSessionAccessKeyId: `ASIA${randomString(16, UPPER_ALNUM)}`,
    awsSessionSecretAccessKey: randomString(40, SECRET_CHARS),
    // Real STS session tokens are long base64 blobs that start with this prefix.
    awsSessionToken: `IQoJb3JpZ2luX2Vj${randomString(340, SECRET_CHARS)}`,
    awsRoleName: `purplekind-${slug(runId)}-node-role`,
    azureTenantId: randomUUID(),
    azureClientId: randomUUID(),
    azureClientSecret: `${randomString(3, ALNUM)}8Q~${randomString(34, AZURE_CHARS)}`,
    dbPassword: randomString(24, ALNUM),
  }
}

/** Stable, non-reversible reference to a secret value (one definition, shared with the redactor). */
export { fingerprint }

/** Every canary value that must never appear in output: the secrets and the access-key and client ids. */
export function canaryValues(c: Canaries): string[] {
  return [...SECRET_FIELDS.map((f) => c[f]), c.awsAccessKeyId, c.awsSessionAccessKeyId, c.azureClientId]
}

/** Field name → fingerprint for every secret of a canary set (what reports may show). */
export function canaryFingerprints(canaries: Canaries): Record<string, string> {
  return Object.fromEntries(SECRET_FIELDS.map((field) => [field, fingerprint(canaries[field])]))
}

/** Environment a victim container gets, carrying the secrets it will leak. */
export function victimEnv(canaries: Canaries): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: canaries.awsAccessKeyId,
    AWS_SECRET_ACCESS_KEY: canaries.awsSecretAccessKey,
    DB_PASSWORD: canaries.dbPassword,
    AZURE_CLIENT_SECRET: canaries.azureClientSecret,
  }
}
