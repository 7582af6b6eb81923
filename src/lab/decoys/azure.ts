// Azure decoy for the real `az` CLI: one HTTPS server on 127.0.0.1 plays Entra ID (OpenID metadata and the
// OAuth2 client-credentials token endpoint), Azure Resource Manager (tenants/subscriptions, which
// `az login` lists) and Microsoft Graph (/v1.0/servicePrincipals for `az ad sp list`). An isolated
// AZURE_CONFIG_DIR holds a custom cloud whose endpoints are this server, with MSAL instance discovery off
// (otherwise MSAL validates the authority at login.microsoftonline.com) and telemetry off.
import { execFile, spawnSync } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'
import type { Canaries } from './canaries.js'
import { decoyLogDir } from './process.js'
import { type Sinkhole, sinkholeEnv, startSinkhole } from './sinkhole.js'
import { makeTlsMaterial, type TlsMaterial } from './tls.js'
import { venvBin } from './venv.js'

const run = promisify(execFile)
export const AZURE_CLOUD_NAME = 'PurplekindDecoy'

export interface AzureRequest {
  time: string
  method: string
  path: string
  query?: string
  status: number
  userAgent?: string
  kind: 'oidc' | 'token' | 'arm' | 'graph' | 'unknown'
  /** For token requests: the grant type and client id (never the secret). */
  grantType?: string
  clientId?: string
}

export interface AzureDecoy {
  /** Base URL of the decoy (authority host, ARM and Graph). */
  readonly endpoint: string
  readonly configDir: string
  /** Environment every `az` call needs (config dir, CA bundle, sinkhole proxies, telemetry off). */
  readonly env: Record<string, string>
  readonly tenantId: string
  readonly clientId: string
  readonly sinkhole: Sinkhole
  events(): readonly AzureRequest[]
  stop(): Promise<void>
}

type Handler = (
  req: IncomingMessage,
  body: string,
  url: URL,
) => { status: number; json: unknown; note?: Partial<AzureRequest> }

export async function startAzureDecoy(options: {
  canaries: Canaries
  log: (line: string) => void
  /** Loopback port to listen on (default: any free one). */
  port?: number
  /** Parent of the decoy's profile dir (the run's secrets dir); default the decoy state dir. */
  stateDir?: string
}): Promise<AzureDecoy> {
  const az = venvBin('az', 'azure-cli')
  const dir = mkdtempSync(join(options.stateDir ?? decoyLogDir(), 'azure-'))
  try {
    return await serveAzureDecoy(az, dir, options)
  } catch (err) {
    // The dir holds the decoy's CA key (and, once logged in, the canary client secret).
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

async function serveAzureDecoy(
  az: string,
  dir: string,
  options: { canaries: Canaries; log: (line: string) => void; port?: number },
): Promise<AzureDecoy> {
  const tlsDir = join(dir, 'tls')
  mkdirSync(tlsDir)
  const tls = await makeTlsMaterial(tlsDir)
  const { canaries } = options
  const seen: AzureRequest[] = []
  const issued = new Set<string>()
  let base = ''

  const server = createServer({ key: tls.serverKey, cert: tls.serverCert }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => respond(req, res, Buffer.concat(chunks).toString('utf8')))
  })
  const respond = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', base)
    const handler = route(url.pathname, req.method ?? 'GET')
    const out = handler
      ? handler(req, body, url)
      : { status: 404, json: { error: { code: 'NotFound', message: `decoy has no ${url.pathname}` } } }
    res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.json))
    const record: AzureRequest = {
      time: new Date().toISOString(),
      method: req.method ?? '',
      path: url.pathname,
      status: out.status,
      kind: kindOf(url.pathname),
      ...out.note,
    }
    if (url.search) record.query = url.search.slice(1)
    if (req.headers['user-agent']) record.userAgent = req.headers['user-agent']
    seen.push(record)
  }

  const bearer = (req: IncomingMessage) =>
    issued.has((req.headers.authorization ?? '').replace(/^Bearer /, ''))
  const unauthorized = {
    status: 401,
    json: { error: { code: 'InvalidAuthenticationToken', message: 'token not issued by decoy' } },
  }

  const openid: Handler = (_req, _body, url) => {
    const tenant = url.pathname.split('/')[1] ?? ''
    const issuer = `${base}/${tenant}/v2.0`
    return {
      status: 200,
      json: {
        issuer,
        authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
        device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
        jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        tenant_region_scope: 'NA',
        cloud_instance_name: '127.0.0.1',
      },
    }
  }

  const token: Handler = (_req, body, url) => {
    const form = new URLSearchParams(body)
    const note = { grantType: form.get('grant_type') ?? '', clientId: form.get('client_id') ?? '' }
    const tenant = url.pathname.split('/')[1] ?? ''
    const ok =
      note.grantType === 'client_credentials' &&
      note.clientId === canaries.azureClientId &&
      form.get('client_secret') === canaries.azureClientSecret &&
      (tenant === canaries.azureTenantId || tenant === 'organizations')
    if (!ok) {
      return {
        status: 401,
        note,
        json: {
          error: 'invalid_client',
          error_description: 'AADSTS7000215: Invalid client secret provided. (purplekind decoy)',
          error_codes: [7000215],
        },
      }
    }
    const scope = form.get('scope') ?? ''
    const accessToken = fakeJwt({
      aud: scope.replace(/\/?\.default$/, '').split(' ')[0],
      iss: `${base}/${canaries.azureTenantId}/v2.0`,
      tid: canaries.azureTenantId,
      appid: canaries.azureClientId,
      oid: spObjectId,
      sub: spObjectId,
      idtyp: 'app',
      ver: '1.0',
    })
    issued.add(accessToken)
    return {
      status: 200,
      note,
      json: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken },
    }
  }

  const spObjectId = randomUUID()
  const servicePrincipals = [
    {
      id: spObjectId,
      appId: canaries.azureClientId,
      displayName: 'purplekind-ci-deployer',
      servicePrincipalType: 'Application',
    },
    { id: randomUUID(), appId: randomUUID(), displayName: 'orders-api', servicePrincipalType: 'Application' },
    {
      id: randomUUID(),
      appId: randomUUID(),
      displayName: 'backup-runner',
      servicePrincipalType: 'Application',
    },
  ].map((sp) => ({
    ...sp,
    appOwnerOrganizationId: canaries.azureTenantId,
    accountEnabled: true,
    servicePrincipalNames: [sp.appId],
  }))

  const graphSps: Handler = (req) =>
    bearer(req)
      ? {
          status: 200,
          json: { '@odata.context': `${base}/v1.0/$metadata#servicePrincipals`, value: servicePrincipals },
        }
      : unauthorized
  const armTenants: Handler = (req) =>
    bearer(req)
      ? {
          status: 200,
          json: {
            value: [
              {
                id: `/tenants/${canaries.azureTenantId}`,
                tenantId: canaries.azureTenantId,
                displayName: 'Purplekind Decoy',
                defaultDomain: 'purplekind-decoy.onmicrosoft.com',
                tenantCategory: 'Home',
              },
            ],
          },
        }
      : unauthorized
  const armSubscriptions: Handler = (req) =>
    bearer(req) ? { status: 200, json: { value: [] } } : unauthorized

  function route(path: string, method: string): Handler | undefined {
    if (method === 'GET' && /^\/[^/]+\/v2\.0\/\.well-known\/openid-configuration$/.test(path)) return openid
    if (method === 'POST' && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(path)) return token
    if (method === 'GET' && path === '/tenants') return armTenants
    if (method === 'GET' && path === '/subscriptions') return armSubscriptions
    if (method === 'GET' && path === '/v1.0/servicePrincipals') return graphSps
    return undefined
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new PurpleError('PURPLE_LAB_FAILED', `azure decoy cannot listen: ${err.message}`)),
    )
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const sinkhole = await startSinkhole()
  const env = azEnv(dir, tls, sinkhole)
  const stop = async () => {
    server.closeAllConnections()
    await Promise.all([new Promise<void>((r) => server.close(() => r())), sinkhole.stop()])
    // The profile holds the canary client secret, the token cache and the decoy's TLS key.
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await registerCloud(az, base, env)
  } catch (err) {
    await stop()
    throw err
  }
  options.log(`azure decoy: ${base} (AZURE_CONFIG_DIR ${dir})`)
  return {
    endpoint: base,
    configDir: dir,
    env,
    tenantId: canaries.azureTenantId,
    clientId: canaries.azureClientId,
    sinkhole,
    events: () => seen,
    stop,
  }
}

function kindOf(path: string): AzureRequest['kind'] {
  if (path.includes('/.well-known/')) return 'oidc'
  if (path.endsWith('/oauth2/v2.0/token')) return 'token'
  if (path.startsWith('/v1.0/')) return 'graph'
  if (path === '/tenants' || path.startsWith('/subscriptions')) return 'arm'
  return 'unknown'
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** An unsigned-in-spirit JWT (random signature): az only decodes claims, the decoy checks it by identity. */
function fakeJwt(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000)
  const header = { typ: 'JWT', alg: 'RS256', kid: 'purplekind-decoy' }
  return `${b64url(header)}.${b64url({ ...claims, iat: now, nbf: now, exp: now + 3600 })}.${randomBytes(64).toString('base64url')}`
}

/** Settings every `az` call against the decoy gets: no telemetry, no MSAL instance discovery, no survey. */
export const AZ_QUIET_ENV: Readonly<Record<string, string>> = {
  AZURE_CORE_COLLECT_TELEMETRY: 'false',
  AZURE_CORE_INSTANCE_DISCOVERY: 'false',
  AZURE_CORE_SURVEY_MESSAGE: 'false',
  AZURE_CORE_NO_COLOR: 'true',
  AZURE_CORE_OUTPUT: 'json',
}

/** Environment for `az` against the decoy. */
function azEnv(configDir: string, tls: TlsMaterial, sinkhole: Sinkhole): Record<string, string> {
  return {
    ...sinkholeEnv(sinkhole),
    AZURE_CONFIG_DIR: configDir,
    REQUESTS_CA_BUNDLE: tls.caFile,
    ...AZ_QUIET_ENV,
  }
}

/**
 * On its first run az fetches the latest CLI version from azcliprod.blob.core.windows.net (found through
 * the sinkhole). It skips that when versionCheck.json already records the installed version, so seed it.
 */
function seedVersionCheck(configDir: string, az: string): void {
  const lib = join(az, '..', '..', 'lib')
  const version = readdirSync(lib)
    .flatMap((py) => readdirSync(join(lib, py, 'site-packages')))
    .map((name) => /^azure_cli_core-(.+)\.dist-info$/.exec(name)?.[1])
    .find((v) => v !== undefined)
  if (!version) return
  const stamp = new Date().toISOString().replace('T', ' ').replace('Z', '000')
  const versions = { 'azure-cli': { local: version }, core: { local: version } }
  writeFileSync(join(configDir, 'versionCheck.json'), JSON.stringify({ versions, update_time: stamp }))
}

/** Runs `az` with the decoy environment; a failure names the subcommand only (arguments may hold secrets). */
async function azCommand(az: string, args: string[], env: Record<string, string>): Promise<void> {
  try {
    await run(az, args, { env: { ...process.env, ...env }, timeout: 120_000 })
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err)
    throw new PurpleError(
      'PURPLE_LAB_FAILED',
      `az ${args.slice(0, 2).join(' ')} failed: ${stderr.trim().slice(0, 500)}`,
    )
  }
}

/** Logs the decoy's config dir in as the canary service principal (what a compromised host would hold). */
export async function azLogin(decoy: AzureDecoy, canaries: Canaries): Promise<void> {
  await azCommand(
    venvBin('az', 'azure-cli'),
    [
      'login',
      '--service-principal',
      '--username',
      decoy.clientId,
      '--password',
      canaries.azureClientSecret,
      '--tenant',
      decoy.tenantId,
      '--allow-no-subscriptions',
      '--output',
      'none',
    ],
    decoy.env,
  )
}

/** Where and as whom the exec sandbox keeps its az profile. */
export interface SandboxProfileTarget {
  configDir: string
  caBundle: string
  owner: { uid: number; gid: number }
}

/**
 * Runs a /bin/sh script as `owner` (umask 077). Anything under the sandbox's HOME is the sandbox
 * user's to swap for a symlink at any moment, so root never touches it: the sandbox user does, and a
 * planted symlink then reaches only what that user could reach anyway.
 */
async function asOwner(owner: SandboxProfileTarget['owner'], script: string, args: string[], input?: Buffer) {
  const self = process.getuid?.() === owner.uid && process.getgid?.() === owner.gid
  const r = await execa('/bin/sh', ['-c', `umask 077; ${script}`, 'sh', ...args], {
    ...(self ? {} : { uid: owner.uid, gid: owner.gid }),
    cwd: '/',
    env: { PATH: '/usr/bin:/bin' },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
    ...(input ? { input } : { stdin: 'ignore' }),
  })
  if (r.exitCode !== 0) {
    throw new PurpleError(
      'PURPLE_LAB_FAILED',
      `handing the az profile to uid ${owner.uid} failed: ${(r.stderr || r.shortMessage || '').trim().slice(0, 300)}`,
    )
  }
}

/**
 * Copies the decoy's `az` profile (cloud, login, caches; not its TLS keys) to `target.configDir`, and its
 * CA certificate to `target.caBundle`, owned by `target.owner`: an unprivileged user elsewhere (the local
 * lab's exec sandbox) can then run `az` against the decoy as that logged-in principal. Root only reads
 * (its own files, into a tar stream); the owner writes, so no root operation follows the owner's paths.
 */
export async function copyAzureProfile(
  decoy: Pick<AzureDecoy, 'configDir' | 'env'>,
  target: SandboxProfileTarget,
): Promise<void> {
  const profile = await execa('tar', ['-c', '-f', '-', '-C', decoy.configDir, '--exclude=./tls', '.'], {
    encoding: 'buffer',
    stdin: 'ignore',
  })
  const ca = await readFile(decoy.env.REQUESTS_CA_BUNDLE as string)
  await asOwner(
    target.owner,
    'rm -rf -- "$1" && mkdir -m 0700 -- "$1" && tar -x -f - -C "$1" --no-same-owner --no-same-permissions',
    [target.configDir],
    Buffer.from(profile.stdout),
  )
  await asOwner(target.owner, 'cat > "$1"', [target.caBundle], ca)
}

/** Removes the sandbox's az profile (as its owner, for the same reason as copyAzureProfile). */
export async function removeAzureProfile(target: SandboxProfileTarget): Promise<void> {
  await asOwner(target.owner, 'rm -rf -- "$1"', [target.configDir])
}

/** The same, synchronously: for a process 'exit' hook (a forced quit must not leave the client secret). */
export function removeAzureProfileSync(target: SandboxProfileTarget): void {
  const self = process.getuid?.() === target.owner.uid && process.getgid?.() === target.owner.gid
  spawnSync('rm', ['-rf', '--', target.configDir], {
    ...(self ? {} : { uid: target.owner.uid, gid: target.owner.gid }),
    cwd: '/',
    env: { PATH: '/usr/bin:/bin' },
    stdio: 'ignore',
    timeout: 10_000,
  })
}

/** Registers and selects the decoy cloud, and writes the safety settings into the config dir itself too. */
async function registerCloud(az: string, base: string, env: Record<string, string>): Promise<void> {
  const configDir = env.AZURE_CONFIG_DIR as string
  seedVersionCheck(configDir, az)
  // Also in the config file, so `az` run with only AZURE_CONFIG_DIR set stays off Microsoft's endpoints.
  writeFileSync(
    join(configDir, 'config'),
    '[core]\ncollect_telemetry = false\ninstance_discovery = false\nsurvey_message = false\nno_color = true\n',
  )
  const azRun = (args: string[]) => azCommand(az, args, env)
  await azRun([
    'cloud',
    'register',
    '--name',
    AZURE_CLOUD_NAME,
    '--skip-endpoint-discovery',
    '--endpoint-active-directory',
    base,
    '--endpoint-active-directory-resource-id',
    `${base}/`,
    '--endpoint-active-directory-graph-resource-id',
    `${base}/`,
    '--endpoint-microsoft-graph-resource-id',
    `${base}/`,
    '--endpoint-resource-manager',
    `${base}/`,
    '--endpoint-management',
    `${base}/`,
  ])
  await azRun(['cloud', 'set', '--name', AZURE_CLOUD_NAME])
}
