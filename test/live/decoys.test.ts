// Live: the cloud decoys with the real CLIs (aws from the venv against moto, az against the HTTPS decoy)
// and the IMDS decoy, in-process and as the standalone imds-main entry. Secrets are compared by
// fingerprint only and never printed.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awsProcessEnv } from '../../src/lab/decoys/aws.js'
import { fingerprint } from '../../src/lab/decoys/canaries.js'
import { imdsCredentials, startImds } from '../../src/lab/decoys/imds.js'
import { type RunDecoys, startDecoys } from '../../src/lab/decoys/index.js'
import { venvDir } from '../../src/lab/decoys/venv.js'

const run = promisify(execFile)
const log = (line: string) => console.log(`[decoys] ${line}`)
let d: RunDecoys

beforeAll(async () => {
  d = await startDecoys({ runId: `t-${Date.now()}`, log })
})
afterAll(async () => {
  await d?.stop()
})

describe('IMDS decoy', () => {
  it('serves the role and its credentials over IMDSv1', async () => {
    const base = d.decoys.imds?.url ?? ''
    const list = await fetch(`${base}/latest/meta-data/iam/security-credentials/`, {
      headers: { 'user-agent': 'curl/7.88.1' },
    })
    expect(await list.text()).toBe(d.canaries.awsRoleName)
    const creds = (await (
      await fetch(`${base}/latest/meta-data/iam/security-credentials/${d.canaries.awsRoleName}`)
    ).json()) as Record<string, string>
    expect(creds.Code).toBe('Success')
    expect(creds.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/)
    expect(fingerprint(creds.SecretAccessKey ?? '')).toBe(d.fingerprints.awsSessionSecretAccessKey)
    expect(fingerprint(creds.Token ?? '')).toBe(d.fingerprints.awsSessionToken)
    const seen = d.imds?.events() ?? []
    expect(seen[0]).toMatchObject({
      method: 'GET',
      path: '/latest/meta-data/iam/security-credentials/',
      mode: 'v1',
      userAgent: 'curl/7.88.1',
      status: 200,
    })
  })

  it('implements the IMDSv2 token flow and rejects bad tokens', async () => {
    const base = d.decoys.imds?.url ?? ''
    const noTtl = await fetch(`${base}/latest/api/token`, { method: 'PUT' })
    expect(noTtl.status).toBe(400)
    const tokenRes = await fetch(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
    })
    const token = await tokenRes.text()
    expect(tokenRes.status).toBe(200)
    const ok = await fetch(`${base}/latest/meta-data/instance-id`, {
      headers: { 'x-aws-ec2-metadata-token': token },
    })
    expect(await ok.text()).toMatch(/^i-[0-9a-f]{17}$/)
    const bad = await fetch(`${base}/latest/meta-data/instance-id`, {
      headers: { 'x-aws-ec2-metadata-token': 'nope' },
    })
    expect(bad.status).toBe(401)
    const modes = (d.imds?.events() ?? []).slice(-4).map((e) => `${e.mode}:${e.status}`)
    expect(modes).toEqual(['token:400', 'token:200', 'v2:200', 'rejected:401'])
  })

  it('refuses IMDSv1 when requireV2 is set', async () => {
    const strict = await startImds({
      host: '127.0.0.1',
      port: 0,
      canary: imdsCredentials(d.canaries),
      role: 'r',
      requireV2: true,
    })
    try {
      expect((await fetch(`${strict.url}/latest/meta-data/`)).status).toBe(401)
    } finally {
      await strict.stop()
    }
  })

  it('runs standalone (imds-main) from a canary file and logs requests as JSON lines', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'imds-main-')), 'imds-main.mjs')
    await run('npx', [
      'esbuild',
      'src/lab/decoys/imds-main.ts',
      '--bundle',
      '--platform=node',
      '--format=esm',
      `--outfile=${out}`,
    ])
    const child = spawn('node', [out, '--host', '127.0.0.1', '--port', '0', '--canary-file', d.canaryFile])
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
      const first = JSON.parse((await lines.next()).value as string) as { listening: string }
      const res = await fetch(`${first.listening}/latest/meta-data/iam/security-credentials/`)
      expect(await res.text()).toBe(d.canaries.awsRoleName)
      const record = JSON.parse((await lines.next()).value as string) as Record<string, unknown>
      expect(record).toMatchObject({
        method: 'GET',
        path: '/latest/meta-data/iam/security-credentials/',
        status: 200,
      })
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('imds-main rejects a missing canary file with a clear message', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'imds-main-')), 'imds-main.mjs')
    await run('npx', [
      'esbuild',
      'src/lab/decoys/imds-main.ts',
      '--bundle',
      '--platform=node',
      '--format=esm',
      `--outfile=${out}`,
    ])
    const err = await run('node', [out, '--port', '0', '--canary-file', '/nonexistent.json']).catch(
      (e: { stderr: string; code: number }) => e,
    )
    expect(err).toMatchObject({ code: 2 })
    expect((err as { stderr: string }).stderr).toMatch(
      /nonexistent\.json: cannot read canary file.*\[PURPLE_USAGE\]/,
    )
  })
})

describe('AWS decoy (moto) with the real aws CLI', () => {
  it('lists the seeded access keys for the leaked canary key', async () => {
    expect(d.unavailable.aws).toBeUndefined()
    const aws = d.aws!
    const { stdout } = await run(
      join(venvDir(), 'bin', 'aws'),
      ['iam', 'list-access-keys', '--output', 'json'],
      {
        env: awsProcessEnv(aws, {
          accessKeyId: d.canaries.awsAccessKeyId,
          secretAccessKey: d.canaries.awsSecretAccessKey,
        }),
      },
    )
    const listed = (JSON.parse(stdout) as { AccessKeyMetadata: { AccessKeyId: string; UserName: string }[] })
      .AccessKeyMetadata
    expect(listed.map((k) => k.AccessKeyId).sort()).toEqual(aws.accessKeys.map((k) => k.accessKeyId).sort())
    expect(listed.every((k) => k.UserName === aws.userName)).toBe(true)
    expect(d.canaries.awsAccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/)
    expect(aws.sinkhole.attempts()).toEqual([])
  })

  it('a key moto never issued is unknown to it (the caller lookup is real)', async () => {
    const aws = d.aws!
    const err = await run(join(venvDir(), 'bin', 'aws'), ['iam', 'list-access-keys'], {
      env: awsProcessEnv(aws, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) }),
    }).catch((e: { stderr: string }) => e)
    expect((err as { stderr: string }).stderr).toMatch(/NoSuchEntity/)
  })
})

describe('Azure decoy with the real az CLI', () => {
  it('logs in as the canary service principal and lists service principals via Graph', async () => {
    if (d.unavailable.azure) throw new Error(`azure decoy unavailable: ${d.unavailable.azure}`)
    const azure = d.azure!
    const az = join(venvDir(), 'bin', 'az')
    const env = { ...process.env, ...azure.env }
    await run(
      az,
      [
        'login',
        '--service-principal',
        '--username',
        azure.clientId,
        '--password',
        d.canaries.azureClientSecret,
        '--tenant',
        azure.tenantId,
        '--allow-no-subscriptions',
        '--output',
        'none',
      ],
      { env, timeout: 120_000 },
    )
    const { stdout } = await run(az, ['ad', 'sp', 'list', '--all', '--output', 'json'], {
      env,
      timeout: 120_000,
    })
    const sps = JSON.parse(stdout) as { appId: string; displayName: string }[]
    expect(sps.map((s) => s.appId)).toContain(azure.clientId)
    const kinds = azure.events().map((e) => `${e.kind}:${e.status}`)
    expect(kinds).toContain('oidc:200')
    expect(kinds).toContain('token:200')
    expect(kinds).toContain('graph:200')
    expect(azure.sinkhole.attempts()).toEqual([])
  })

  it('rejects a wrong client secret at the token endpoint', async () => {
    const azure = d.azure!
    const az = join(venvDir(), 'bin', 'az')
    const env = { ...process.env, ...azure.env }
    // MSAL answers a client-credentials login from its token cache (keyed without the secret): log out first.
    await run(az, ['logout', '--username', azure.clientId], { env })
    const err = await run(
      az,
      [
        'login',
        '--service-principal',
        '--username',
        azure.clientId,
        '--password',
        'wrong-secret',
        '--tenant',
        azure.tenantId,
        '--allow-no-subscriptions',
      ],
      { env },
    ).catch((e: { stderr: string }) => e)
    expect((err as { stderr: string }).stderr).toMatch(/AADSTS7000215/)
  })
})
