// The environment of a step's cloud CLI on the host (`{cloud: aws|azure}` actors), against the run's
// decoys: Azure's logged-in profile, or AWS with the run's canary keys — or with role credentials an
// earlier step captured from the metadata service (the stolen ones).
import { PurpleError } from '../errors.js'
import type { RunServices } from '../lab/compose.js'
import { awsEnv } from '../lab/decoys/aws.js'
import type { ActionContext } from './actions.js'

export function cloudEnvFor(services: RunServices): ActionContext['cloudEnv'] {
  return (cloud, captured) => {
    if (cloud === 'azure') return services.lab.decoys.azure?.env ?? {}
    const aws = services.decoys.aws
    if (!aws)
      throw new PurpleError(
        'PURPLE_PROVIDER_UNAVAILABLE',
        `AWS decoy unavailable: ${services.decoys.unavailable.aws ?? 'not started'}`,
      )
    const c = captured ? parseRoleCredentials(captured) : undefined
    return awsEnv(
      aws,
      c
        ? {
            accessKeyId: c.AccessKeyId,
            secretAccessKey: c.SecretAccessKey,
            ...(c.Token ? { sessionToken: c.Token } : {}),
          }
        : {
            accessKeyId: services.canaries.awsAccessKeyId,
            secretAccessKey: services.canaries.awsSecretAccessKey,
          },
    )
  }
}

/** IMDS role credentials as captured from a step's output; never quotes the text (it holds secrets). */
export function parseRoleCredentials(text: string): {
  AccessKeyId: string
  SecretAccessKey: string
  Token?: string
} {
  try {
    const c = JSON.parse(text) as { AccessKeyId?: unknown; SecretAccessKey?: unknown; Token?: unknown }
    if (typeof c.AccessKeyId === 'string' && typeof c.SecretAccessKey === 'string')
      return {
        AccessKeyId: c.AccessKeyId,
        SecretAccessKey: c.SecretAccessKey,
        ...(typeof c.Token === 'string' ? { Token: c.Token } : {}),
      }
  } catch {
    // fall through: not JSON
  }
  throw new PurpleError(
    'PURPLE_COMMAND_FAILED',
    'the captured credentials are not IMDS role credentials JSON (AccessKeyId, SecretAccessKey)',
  )
}
