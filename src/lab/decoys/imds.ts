// EC2 Instance Metadata Service decoy. IMDSv1 (plain GET) is allowed unless `requireV2`, because the
// attack being replayed is the classic unauthenticated `curl 169.254.169.254/...`; IMDSv2's token flow
// (PUT /latest/api/token, then X-aws-ec2-metadata-token) is implemented and a bad token always gets 401.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PurpleError } from '../../errors.js'
import type { Canaries } from './canaries.js'

export interface ImdsCredentials {
  accessKeyId: string
  secretAccessKey: string
  token: string
}

export interface ImdsRequest {
  time: string
  method: string
  path: string
  userAgent?: string
  remote?: string
  status: number
  /** v1: no token; v2: valid token; token: the PUT that issues one; rejected: wrong/expired token. */
  mode: 'v1' | 'v2' | 'token' | 'rejected'
}

export interface ImdsOptions {
  host: string
  port: number
  canary: ImdsCredentials
  role: string
  requireV2?: boolean
  onRequest?: (request: ImdsRequest) => void
}

export interface ImdsDecoy {
  readonly url: string
  /** The role name currently served. */
  readonly role: string
  /** Serve another role and credentials from now on (a long-lived lab IMDS taking a run's canaries). */
  serve(canary: ImdsCredentials, role: string): void
  events(): readonly ImdsRequest[]
  stop(): Promise<void>
}

const TOKEN_HEADER = 'x-aws-ec2-metadata-token'
const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds'
const INSTANCE_ID = 'i-0d1e2c3b4a5f60718'
const REGION = 'us-east-1'

export function imdsCredentials(canaries: Canaries): ImdsCredentials {
  return {
    accessKeyId: canaries.awsSessionAccessKeyId,
    secretAccessKey: canaries.awsSessionSecretAccessKey,
    token: canaries.awsSessionToken,
  }
}

/** Static metadata tree: path → body. Role credentials are added per decoy. */
function metadata(role: string, creds: ImdsCredentials, started: Date): Map<string, string> {
  const now = started.toISOString().replace(/\.\d+Z$/, 'Z')
  const expires = new Date(started.getTime() + 6 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z')
  const md = '/latest/meta-data/'
  return new Map([
    ['/latest/', 'dynamic\nmeta-data\nuser-data'],
    [md, 'ami-id\nhostname\niam/\ninstance-id\ninstance-type\nlocal-ipv4\nplacement/'],
    [`${md}ami-id`, 'ami-0c55b159cbfafe1f0'],
    [`${md}hostname`, 'ip-10-0-1-23.ec2.internal'],
    [`${md}instance-id`, INSTANCE_ID],
    [`${md}instance-type`, 'm5.large'],
    [`${md}local-ipv4`, '10.0.1.23'],
    [`${md}placement/`, 'availability-zone\nregion'],
    [`${md}placement/availability-zone`, `${REGION}a`],
    [`${md}placement/region`, REGION],
    [`${md}iam/`, 'info\nsecurity-credentials/'],
    [
      `${md}iam/info`,
      JSON.stringify({
        Code: 'Success',
        LastUpdated: now,
        InstanceProfileArn: `arn:aws:iam::123456789012:instance-profile/${role}`,
        InstanceProfileId: 'AIPAJ2K4EXAMPLEPROFILE',
      }),
    ],
    [`${md}iam/security-credentials/`, role],
    [
      `${md}iam/security-credentials/${role}`,
      JSON.stringify({
        Code: 'Success',
        LastUpdated: now,
        Type: 'AWS-HMAC',
        AccessKeyId: creds.accessKeyId,
        SecretAccessKey: creds.secretAccessKey,
        Token: creds.token,
        Expiration: expires,
      }),
    ],
    [
      '/latest/dynamic/instance-identity/document',
      JSON.stringify({
        accountId: '123456789012',
        instanceId: INSTANCE_ID,
        region: REGION,
        availabilityZone: `${REGION}a`,
      }),
    ],
  ])
}

export async function startImds(options: ImdsOptions): Promise<ImdsDecoy> {
  let tree = metadata(options.role, options.canary, new Date())
  let role = options.role
  const tokens = new Map<string, number>()
  const seen: ImdsRequest[] = []

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const reply = (status: number, body: string, mode: ImdsRequest['mode'], type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type, server: 'EC2ws' }).end(body)
      const record: ImdsRequest = {
        time: new Date().toISOString(),
        method: req.method ?? '',
        path,
        status,
        mode,
      }
      if (req.headers['user-agent']) record.userAgent = req.headers['user-agent']
      if (req.socket.remoteAddress) record.remote = req.socket.remoteAddress
      seen.push(record)
      options.onRequest?.(record)
    }
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return reply(405, '', 'token')
      // Real IMDS refuses token requests that went through a proxy.
      if (req.headers['x-forwarded-for']) return reply(403, '', 'token')
      const ttl = Number(req.headers[TTL_HEADER])
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return reply(400, '', 'token')
      const token = randomBytes(40).toString('base64')
      tokens.set(token, Date.now() + ttl * 1000)
      return reply(200, token, 'token')
    }
    const token = req.headers[TOKEN_HEADER]
    let mode: ImdsRequest['mode'] = 'v1'
    if (typeof token === 'string') {
      const expiry = tokens.get(token)
      if (expiry === undefined || expiry < Date.now()) return reply(401, '', 'rejected')
      mode = 'v2'
    } else if (options.requireV2) return reply(401, '', 'rejected')
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, '', mode)
    const body = tree.get(path)
    if (body === undefined) return reply(404, '', mode)
    reply(200, body, mode, body.startsWith('{') ? 'application/json' : 'text/plain')
  }

  const server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new PurpleError(
          'PURPLE_LAB_FAILED',
          `IMDS decoy cannot listen on ${options.host}:${options.port}: ${err.message}`,
        ),
      ),
    )
    server.listen(options.port, options.host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  let stopped: Promise<void> | undefined
  return {
    url: `http://${options.host}${port === 80 ? '' : `:${port}`}`,
    get role() {
      return role
    },
    serve(canary, newRole) {
      tree = metadata(newRole, canary, new Date())
      role = newRole
    },
    events: () => seen,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      return stopped
    },
  }
}
