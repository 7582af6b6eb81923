// The one identity resolver: how a step's actor authenticates to the apiserver, for kubectl and for the
// harness's own `api` client alike. A non-admin actor always presents its own credential — its client
// certificate (minted per step from the lab's client CA) or its bearer token — and never the admin's;
// only where no client CA exists (an existing cluster) is a user impersonated, which the report states.
import { randomUUID } from 'node:crypto'
import { PurpleError } from '../errors.js'
import type { Lab } from '../lab/provider.js'
import type { Actor } from '../scenario/schema.js'
import { type ClientCert, mintClientCert } from './client-cert.js'

export const MARKER_EXTRA = 'purplekind.io/step'

export type KubeIdentity =
  | { kind: 'cert'; identity: string; cert: ClientCert; marker: string }
  | { kind: 'token'; identity: string; token: string; marker?: string }
  /** Admin credentials + Impersonate-* headers; only where the lab has no client CA. */
  | { kind: 'impersonate'; identity: string; user: string; groups: readonly string[]; marker: string }

export interface IdentityContext {
  lab: Pick<Lab, 'clientCA'>
  runDir: string
  captures: ReadonlyMap<string, string>
  /** A lab service account's token (TokenRequest), minted once per run. */
  serviceAccountToken(sa: string): Promise<string>
}

/** Resolves a Kubernetes actor; a token actor with no usable token is a failed action, never admin. */
export async function resolveKubeIdentity(actor: Actor, ctx: IdentityContext): Promise<KubeIdentity> {
  if ('user' in actor && ctx.lab.clientCA) {
    // The user's own certificate: no impersonation, and the event's credential id names the step.
    const cert = await mintClientCert(ctx.lab.clientCA, actor.user, actor.groups, ctx.runDir)
    return { kind: 'cert', identity: actor.user, cert, marker: cert.credentialId }
  }
  if ('user' in actor)
    return {
      kind: 'impersonate',
      identity: actor.user,
      user: actor.user,
      groups: actor.groups,
      marker: randomUUID(),
    }
  if ('serviceAccount' in actor) {
    const token = usableToken(
      await ctx.serviceAccountToken(actor.serviceAccount),
      `service account ${actor.serviceAccount}`,
    )
    const [ns, name] = actor.serviceAccount.split('/')
    return { kind: 'token', identity: `system:serviceaccount:${ns}:${name}`, token, ...tokenMarker(token) }
  }
  if ('token' in actor) {
    const captured = ctx.captures.get(actor.token)
    if (captured === undefined)
      throw new PurpleError(
        'PURPLE_COMMAND_FAILED',
        `capture "${actor.token}" is missing: no earlier step captured it (the step would otherwise run as the harness)`,
      )
    const token = usableToken(captured, `capture "${actor.token}"`)
    return { kind: 'token', identity: jwtSubject(token) ?? 'token', token, ...tokenMarker(token) }
  }
  throw new PurpleError('PURPLE_INTERNAL', 'not a Kubernetes actor')
}

// A bearer token must be one printable word: empty means the step that should have produced it failed,
// and a value with spaces or control characters is not a token (and would not be a valid header).
function usableToken(value: string, what: string): string {
  const token = value.trim()
  if (!token)
    throw new PurpleError(
      'PURPLE_COMMAND_FAILED',
      `${what} is empty: the step that should have produced the token failed; not sending the request (it would go out as the harness)`,
    )
  if (!/^[\x21-\x7e]+$/.test(token) || token.length > 16_384)
    throw new PurpleError(
      'PURPLE_COMMAND_FAILED',
      `${what} is not a bearer token (spaces, control characters or too long)`,
    )
  return token
}

/**
 * A service-account token's `jti` is what the apiserver records as the event's credential id
 * (`JTI=<jti>`): it ties a step using that token — a stolen one too — to exactly its events.
 */
function tokenMarker(token: string): { marker?: string } {
  const jti = jwtClaims(token)?.jti
  return typeof jti === 'string' && jti ? { marker: `JTI=${jti}` } : {}
}

export function jwtSubject(token: string): string | undefined {
  const sub = jwtClaims(token)?.sub
  return typeof sub === 'string' ? sub : undefined
}

/** The claims of a JWT (unverified: only to name what a token is). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1]
  if (!payload || payload.length > 16_384) return undefined
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
