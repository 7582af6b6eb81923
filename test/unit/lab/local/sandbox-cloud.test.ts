// The exec sandbox's cloud CLI wiring: the environment kwok gives exec'd commands, the decoy bridges,
// the venv location, the state of labs started before the bridges, and the az profile hand-over.
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { copyAzureProfile } from '../../../../src/lab/decoys/azure.js'
import { defaultVenv, venvDir } from '../../../../src/lab/decoys/venv.js'
import {
  KWOK_STAGES,
  kwokConfigYaml,
  labPaths,
  SAFE_PATH,
  sandboxCloudFiles,
  sandboxExecEnv,
} from '../../../../src/lab/local/config.js'
import { forwarderRules } from '../../../../src/lab/local/index.js'
import { readState, writeState } from '../../../../src/lab/local/state.js'

const ports = { etcdClient: 1, etcdPeer: 2, apiserver: 3, kwok: 4, receiver: 5, imds: 6 }
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pk-sandbox-cloud-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sandbox exec environment', () => {
  const env = sandboxExecEnv({ workDir: '/tmp/purplekind-exec-x', venvBin: '/opt/v/bin', awsPort: 4321 })

  it('gives aws an endpoint (moto, bridged) but no credentials, so the CLI asks the IMDS', () => {
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4321',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    })
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
      expect(env[name], name).toBeUndefined()
    }
    expect(env.AWS_EC2_METADATA_DISABLED).toBeUndefined()
  })

  it('puts the venv first on PATH and az state under the sandbox HOME', () => {
    expect(env.PATH).toBe(`/opt/v/bin:${SAFE_PATH}`)
    expect(env.HOME).toBe('/tmp/purplekind-exec-x')
    expect(env.AZURE_CONFIG_DIR).toBe('/tmp/purplekind-exec-x/.azure')
    expect(env.REQUESTS_CA_BUNDLE).toBe(sandboxCloudFiles('/tmp/purplekind-exec-x').caBundle)
    expect(env.REQUESTS_CA_BUNDLE?.startsWith('/tmp/purplekind-exec-x/')).toBe(true)
    expect(env.AZURE_CORE_COLLECT_TELEMETRY).toBe('false')
    expect(env.AZURE_CORE_INSTANCE_DISCOVERY).toBe('false')
    expect(env.PURPLEKIND_SANDBOX).toBe('1')
  })

  it('is written into the ClusterExec envs, in order, next to the sandbox user', async () => {
    const stages = join(dir, 'stages')
    for (const s of KWOK_STAGES) {
      await mkdir(join(stages, s, '..'), { recursive: true })
      await writeFile(join(stages, s), 'kind: Stage\n')
    }
    const docs = parseAllDocuments(kwokConfigYaml(stages, '/tmp/w', { uid: 65534, gid: 65534 }, '/l', env))
    const local = docs[5]?.toJS().spec.execs[0].local
    expect(local.envs).toEqual(Object.entries(env).map(([name, value]) => ({ name, value })))
    expect(local.envs.find((e: { name: string }) => e.name === 'AWS_PAGER')).toEqual({
      name: 'AWS_PAGER',
      value: '',
    })
    const plain = parseAllDocuments(kwokConfigYaml(stages, '/tmp/w', { uid: 1, gid: 1 }, '/l'))
    expect(plain[5]?.toJS().spec.execs[0].local.envs).toEqual([
      { name: 'HOME', value: '/tmp/w' },
      { name: 'PURPLEKIND_SANDBOX', value: '1' },
    ])
  })
})

describe('decoy bridges', () => {
  const p = labPaths('/labs/x')

  it('bridge the aws and azure ports to the same port on each side, through unix sockets', () => {
    const r = forwarderRules(p, { ...ports, aws: 7001, azure: 7002 })
    expect(r.host).toContain('unix:/labs/x/sock/aws.sock=tcp:127.0.0.1:7001')
    expect(r.host).toContain('unix:/labs/x/sock/azure.sock=tcp:127.0.0.1:7002')
    expect(r.sandbox).toContain('tcp:127.0.0.1:7001=unix:/labs/x/sock/aws.sock')
    expect(r.sandbox).toContain('tcp:127.0.0.1:7002=unix:/labs/x/sock/azure.sock')
    expect(r.sandbox).toContain('tcp:169.254.169.254:80=unix:/labs/x/sock/imds.sock')
    // The sandbox side listens only on its own loopback and the IMDS address, never elsewhere.
    for (const rule of r.sandbox.filter((x) => x.startsWith('tcp:'))) {
      expect(rule).toMatch(/^tcp:(127\.0\.0\.1|169\.254\.169\.254):\d+=unix:/)
    }
  })

  it('are absent for a lab recorded before they existed, whose state file still reads', async () => {
    const r = forwarderRules(p, ports)
    expect([...r.host, ...r.sandbox].some((x) => /aws|azure/.test(x))).toBe(false)
    const file = join(dir, 'state.json')
    const state = {
      version: 1 as const,
      name: 'x',
      dir: '/labs/x',
      createdAt: '2026-11-27T00:00:00Z',
      netns: 'purplekind-x',
      workDir: '/tmp/w',
      binDir: '/bin',
      versions: {},
      ports,
      daemons: [],
      complete: true,
    }
    await writeState(file, state)
    expect(readState(file)?.ports).toEqual(ports)
    await writeState(file, { ...state, ports: { ...ports, aws: 8, azure: 9 } })
    expect(readState(file)?.ports).toMatchObject({ aws: 8, azure: 9 })
  })
})

describe('venv location', () => {
  it('defaults to a world-readable path for root (the sandbox user cannot enter /root)', () => {
    expect(defaultVenv({}, 0)).toBe('/opt/purplekind/venv')
    expect(defaultVenv({ XDG_CACHE_HOME: '/home/u/.c' }, 1000)).toBe('/home/u/.c/purplekind/venv')
    expect(defaultVenv({ PURPLEKIND_CACHE: '/c' }, 1000)).toBe('/c/venv')
    expect(venvDir({ PURPLEKIND_VENV: '/somewhere/venv' })).toBe('/somewhere/venv')
  })
})

describe('copyAzureProfile', () => {
  it('copies the az profile and the CA but not the decoy TLS keys, owned by the target user', async () => {
    const src = join(dir, 'azure-src')
    await mkdir(join(src, 'tls'), { recursive: true })
    await mkdir(join(src, 'commands'), { recursive: true })
    await writeFile(join(src, 'azureProfile.json'), '{"subscriptions":[]}')
    await writeFile(join(src, 'commands', 'x.log'), 'log')
    await writeFile(join(src, 'tls', 'ca.pem'), 'CA PEM')
    await writeFile(join(src, 'tls', 'server.key'), 'SECRET KEY')
    // Root hands the files to the sandbox user; anyone else can only give them to themselves.
    const owner =
      process.getuid?.() === 0
        ? { uid: 65534, gid: 65534 }
        : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }
    // As in the lab: the sandbox user owns its HOME (the exec workDir), reachable through its parent.
    await chmod(dir, 0o711)
    const home = join(dir, 'home')
    await mkdir(home, { mode: 0o700 })
    const target = join(home, '.azure')
    await mkdir(target)
    await writeFile(join(target, 'stale.json'), 'old run')
    for (const p of [home, target, join(target, 'stale.json')]) await chown(p, owner.uid, owner.gid)
    const caBundle = join(target, 'ca.pem')
    await copyAzureProfile(
      { configDir: src, env: { REQUESTS_CA_BUNDLE: join(src, 'tls', 'ca.pem') } },
      { configDir: target, caBundle, owner },
    )
    const entries = (await readdir(target, { recursive: true })).sort()
    expect(entries).toEqual(['azureProfile.json', 'ca.pem', 'commands', 'commands/x.log'])
    expect(await readFile(caBundle, 'utf8')).toBe('CA PEM')
    for (const e of ['', ...entries]) {
      const s = await stat(join(target, e))
      expect({ uid: s.uid, gid: s.gid }, e || '.').toEqual(owner)
    }
    expect((await stat(target)).mode & 0o777).toBe(0o700)
  })
})
