// AWS API decoy: moto's server on loopback, seeded with an IAM user whose access keys moto itself mints.
// What moto checks (5.x, default settings): request signatures and IAM policies are NOT verified
// (INITIAL_NO_AUTH_ACTION_COUNT is unlimited), so any key id/secret is accepted as a caller. But calls
// that resolve the caller, such as `iam list-access-keys` without --user-name, look the access key id up
// in moto's IAM store: the key must exist there. So the leaked AWS key of a run is the one moto issues.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PurpleError } from '../../errors.js'
import { processEntry, type RunJournal } from '../journal.js'
import type { Canaries } from './canaries.js'
import { decoyLogDir, freePort, spawnServer } from './process.js'
import { type Sinkhole, sinkholeEnv, startSinkhole } from './sinkhole.js'
import { venvBin } from './venv.js'

export const AWS_REGION = 'us-east-1'

export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface AwsDecoy {
  readonly endpoint: string
  readonly region: string
  readonly userName: string
  /** Keys seeded for the user, in creation order; the first is the run's leaked canary key. */
  readonly accessKeys: readonly AwsCredentials[]
  readonly logFile: string
  /** moto's request recorder (headers included: owner-only, removed on stop), read as decoy-access. */
  readonly recordingFile: string
  /** Refusing proxy the CLI is pointed at, so a missed endpoint cannot reach AWS (see sinkhole.ts). */
  readonly sinkhole: Sinkhole
  stop(): Promise<void>
}

export async function startAwsDecoy(options: {
  canaries: Canaries
  log: (line: string) => void
  /** Loopback port for moto (default: any free one). */
  port?: number
  /** Records moto's pid the moment it exists (sweep kills it after a SIGKILL of the harness). */
  journal?: Pick<RunJournal, 'record'>
}): Promise<AwsDecoy> {
  const motoServer = venvBin('moto_server', 'moto[server]')
  const port = options.port ?? (await freePort())
  const endpoint = `http://127.0.0.1:${port}`
  const logFile = join(decoyLogDir(), `moto-${port}.log`)
  const recordingFile = join(decoyLogDir(), `moto-${port}.requests.jsonl`)
  const server = await spawnServer('moto_server', motoServer, ['-H', '127.0.0.1', '-p', String(port)], {
    logFile,
    env: { ...process.env, MOTO_ENABLE_RECORDING: 'True', MOTO_RECORDER_FILEPATH: recordingFile },
    port,
    onSpawn: (pid) => {
      const entry = processEntry('moto_server', pid)
      if (entry) options.journal?.record(entry)
    },
    ready: async () => (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) })).ok,
  })
  options.log(`aws decoy: moto_server on ${endpoint} (log ${logFile})`)
  try {
    const userName = options.canaries.awsRoleName.replace(/-node-role$/, '-app')
    await iamCall(endpoint, { Action: 'CreateUser', UserName: userName })
    const accessKeys = [await createAccessKey(endpoint, userName), await createAccessKey(endpoint, userName)]
    const sinkhole = await startSinkhole()
    const stop = async () => {
      await Promise.all([server.stop(), sinkhole.stop()])
      await rm(recordingFile, { force: true })
    }
    return { endpoint, region: AWS_REGION, userName, accessKeys, logFile, recordingFile, sinkhole, stop }
  } catch (err) {
    await server.stop()
    throw err
  }
}

async function createAccessKey(endpoint: string, userName: string): Promise<AwsCredentials> {
  const xml = await iamCall(endpoint, { Action: 'CreateAccessKey', UserName: userName })
  const accessKeyId = xml.match(/<AccessKeyId>([^<]+)</)?.[1]
  const secretAccessKey = xml.match(/<SecretAccessKey>([^<]+)</)?.[1]
  if (!accessKeyId || !secretAccessKey)
    throw new PurpleError('PURPLE_LAB_FAILED', 'moto CreateAccessKey gave no key')
  return { accessKeyId, secretAccessKey }
}

/** One IAM Query API call. moto routes by the credential scope; it does not check the signature. */
async function iamCall(endpoint: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAPURPLEKINDSEEDER/20260101/${AWS_REGION}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }),
  })
  const text = await res.text()
  if (!res.ok)
    throw new PurpleError(
      'PURPLE_LAB_FAILED',
      `moto IAM ${params.Action} → ${res.status}: ${text.slice(0, 300)}`,
    )
  return text
}

/** Variables that could point the CLI somewhere else (profiles, container/web-identity creds, proxies). */
export const AWS_UNSET_ENV = [
  'AWS_PROFILE',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_DEFAULT_PROFILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'AWS_CA_BUNDLE',
] as const

export type AwsEnvTarget = Pick<AwsDecoy, 'endpoint' | 'region'> & { sinkhole: Pick<Sinkhole, 'url'> }

/**
 * Environment for the real `aws` CLI so it only ever talks to the decoy: every service endpoint is the
 * decoy (AWS_ENDPOINT_URL), credentials come from env (so no metadata/SSO lookup), no config files, IMDS
 * disabled, one attempt, and any other host goes to the refusing sinkhole proxy. Spawn with
 * `env: awsProcessEnv(...)` to also drop AWS_UNSET_ENV from the parent.
 */
export function awsEnv(decoy: AwsEnvTarget, creds: AwsCredentials): Record<string, string> {
  return {
    ...sinkholeEnv(decoy.sinkhole),
    AWS_ENDPOINT_URL: decoy.endpoint,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    ...(creds.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
    AWS_DEFAULT_REGION: decoy.region,
    AWS_REGION: decoy.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    AWS_PAGER: '',
  }
}

/** The parent environment minus AWS_UNSET_ENV, plus awsEnv. */
export function awsProcessEnv(decoy: AwsEnvTarget, creds: AwsCredentials): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of AWS_UNSET_ENV) delete env[name]
  return { ...env, ...awsEnv(decoy, creds) }
}
