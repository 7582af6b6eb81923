import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PurpleError } from '../../../src/errors.js'
import { watchAction } from '../../../src/exercise/live.js'
import { KubeApi } from '../../../src/kube/api.js'
import type { Lab } from '../../../src/lab/provider.js'
import { type ActionContext, runAction } from '../../../src/run/actions.js'
import { judgeStep } from '../../../src/run/judge.js'
import { failedAction } from '../../../src/run/runner.js'
import type { Scenario } from '../../../src/scenario/load.js'
import type { Actor, Step } from '../../../src/scenario/schema.js'
import { scenarioSchema } from '../../../src/scenario/schema.js'
import { type FakeApiserver, startFakeApiserver } from '../kube/fake-apiserver.js'
import { step as makeStep } from './helpers.js'

const makeScenario = (steps: Step[]): Scenario =>
  ({
    ...scenarioSchema.parse({
      apiVersion: 'purplekind.io/v1alpha1',
      kind: 'Scenario',
      metadata: { id: 't', title: 't', techniques: ['T1552.007'], tactic: 'credential-access' },
      steps: [{ id: 's', title: 's', kind: 'attack', actor: { user: 'm' }, run: ['kubectl', 'get', 'pods'] }],
    }),
    steps,
    file: 'identity.test.yaml',
  }) as unknown as Scenario

// The fake apiserver (test/unit/kube/fake-apiserver.ts) records the credential every request presents:
// the client certificate's CN, the Authorization header and any Impersonate-User header. The PKI is the
// local lab's own (makePki), the clients the real kubectl and the harness's KubeApi.
interface Seen {
  path: string
  cn?: string
  authorization?: string
  impersonate?: string
}

const ADMIN_CN = 'purplekind-admin'
const jwt = (sub: string, jti: string) =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub, jti })).toString('base64url')}.c2ln`
const SA_TOKEN = jwt('system:serviceaccount:purple-app:app-controller', 'sa-jti')
const STOLEN = jwt('system:serviceaccount:purple-app:web', 'stolen-jti')

let fake: FakeApiserver
let dir: string
let kubeconfig: string
/** What the fake saw since the last `resetSeen()`: each request's path and the credential it presented. */
const seen = (): Seen[] =>
  fake.seen.map((r) => ({
    path: r.url,
    ...(r.clientCN ? { cn: r.clientCN } : {}),
    ...(r.authorization ? { authorization: r.authorization } : {}),
    ...(r.impersonate ? { impersonate: r.impersonate } : {}),
  }))
const resetSeen = () => {
  fake.seen.length = 0
}
// The lab's own kubectl (the version the labs run; --as-user-extra needs >= 1.29), as lab.binDir gives it.
const CACHE = path.join(process.env.HOME ?? '/root', '.cache/purplekind')
const kubectlDir = (existsSync(CACHE) ? readdirSync(CACHE) : [])
  .filter((d) => d.startsWith('k8s-'))
  .map((d) => path.join(CACHE, d, 'bin'))
  .find((d) => existsSync(path.join(d, 'kubectl')))

beforeAll(async () => {
  fake = await startFakeApiserver((r) =>
    r.url.endsWith('/token')
      ? { status: 201, body: { status: { token: SA_TOKEN } } }
      : { status: 200, body: { kind: 'SecretList', apiVersion: 'v1', items: [] } },
  )
  dir = fake.dir
  kubeconfig = await fake.kubeconfig('purplekind-test')
}, 60_000)

afterAll(async () => {
  await fake?.close()
})

function context(o: { clientCA: boolean; captures?: Record<string, string> }): ActionContext {
  const lab = {
    name: 'identity-test',
    provider: 'local',
    kubeconfig,
    context: 'purplekind-test',
    ...(kubectlDir ? { binDir: kubectlDir } : {}),
    ...(o.clientCA ? { clientCA: { cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') } } : {}),
  } as unknown as Lab
  return {
    runId: 'r1',
    lab,
    api: KubeApi.fromKubeconfig(kubeconfig, 'purplekind-test'),
    runDir: dir,
    captures: new Map(Object.entries(o.captures ?? {})),
    tokens: new Map(),
    venvBin: '/opt/purplekind/venv/bin',
    cloudEnv: () => ({}),
  }
}

const stepOf = (tool: 'kubectl' | 'api', actor: Actor): Step =>
  makeStep({
    id: 'read-secrets',
    kind: 'attack',
    actor,
    run:
      tool === 'kubectl'
        ? ['kubectl', 'get', '--raw', '/api/v1/namespaces/purple-app/secrets']
        : ['api', 'list', 'secrets', '-n', 'purple-app'],
  })

/** The step's own requests (the harness's TokenRequest is the admin's, by design). */
const stepRequests = () => seen().filter((s) => s.path.includes('/secrets'))

const tools = kubectlDir ? (['kubectl', 'api'] as const) : (['api'] as const)
if (!kubectlDir)
  console.log(`no lab kubectl under ${CACHE}/k8s-*/bin (scripts/setup.sh fetches it): kubectl path skipped`)

describe.each(tools)('%s: every actor presents its own credential, never the admin’s', (tool) => {
  const run = async (actor: Actor, o: Parameters<typeof context>[0]) => {
    resetSeen()
    const record = await runAction(stepOf(tool, actor), context(o))
    expect(record.exitCode, record.stderr).toBe(0)
    return stepRequests()
  }

  it('a user, with the lab’s client CA: its own certificate', async () => {
    const reqs = await run({ user: 'mallory@example.com', groups: ['developers'] }, { clientCA: true })
    expect(reqs.length).toBeGreaterThan(0)
    for (const r of reqs) expect(r).toEqual({ path: expect.any(String), cn: 'mallory@example.com' })
  })

  it('a user, without a client CA (existing cluster): the admin only ever impersonating the user', async () => {
    const reqs = await run({ user: 'mallory@example.com', groups: ['developers'] }, { clientCA: false })
    expect(reqs.length).toBeGreaterThan(0)
    for (const r of reqs) expect(r).toMatchObject({ cn: ADMIN_CN, impersonate: 'mallory@example.com' })
  })

  it('a service account: its own token, no client certificate', async () => {
    const reqs = await run({ serviceAccount: 'purple-app/app-controller' }, { clientCA: true })
    expect(reqs.length).toBeGreaterThan(0)
    for (const r of reqs) expect(r).toEqual({ path: expect.any(String), authorization: `Bearer ${SA_TOKEN}` })
  })

  it('a stolen token: that token, no client certificate', async () => {
    const reqs = await run({ token: 'stolen' }, { clientCA: true, captures: { stolen: `${STOLEN}\n` } })
    expect(reqs.length).toBeGreaterThan(0)
    for (const r of reqs) expect(r).toEqual({ path: expect.any(String), authorization: `Bearer ${STOLEN}` })
  })

  it.each([
    ['empty', { stolen: '  \n' }, /capture "stolen" is empty/],
    ['missing', {}, /capture "stolen" is missing/],
    ['not a token', { stolen: 'Error from server (Forbidden): nope' }, /not a bearer token/],
  ])('a %s stolen token: ACTION_FAILED with the reason, and no request at all', async (_, captures, why) => {
    resetSeen()
    const step = stepOf(tool, { token: 'stolen' })
    const e = await runAction(step, context({ clientCA: true, captures })).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(PurpleError)
    expect((e as PurpleError).code).toBe('PURPLE_COMMAND_FAILED')
    expect((e as Error).message).toMatch(why)
    expect(seen()).toEqual([])
    const scenario = makeScenario([step])
    const { result } = judgeStep({
      scenario,
      step,
      actor: 'stolen token',
      command: step.run.join(' '),
      ...(({ exitCode, stdout, stderr, sentAt, endedAt }) => ({ exitCode, stdout, stderr, sentAt, endedAt }))(
        failedAction(step, e),
      ),
      startedAt: new Date().toISOString(),
      canariesRetrieved: [],
      correlated: { events: [], method: 'none' },
      alerts: [],
      rules: new Map(),
    })
    expect(result.verdict).toBe('ACTION_FAILED')
    expect(result.explanation).toMatch(why)
  })
})

// The exercise's background controller watch (`api watch`) resolves its actor like every other step.
describe('api watch (exercise background): the actor’s own credential', () => {
  const watch = (actor: Actor, o: Parameters<typeof context>[0]) =>
    watchAction(
      makeStep({ id: 'w', kind: 'benign', actor, run: ['api', 'watch', 'secrets', '-n', 'purple-app'] }),
      context(o),
    )

  it.each([
    [
      'a service account: its token',
      { serviceAccount: 'purple-app/app-controller' },
      { authorization: `Bearer ${SA_TOKEN}` },
    ],
    [
      'a user: its own certificate',
      { user: 'dev@example.com', groups: ['developers'] },
      { cn: 'dev@example.com' },
    ],
  ] as const)('%s', async (_, actor, credential) => {
    resetSeen()
    const record = await watch(actor as Actor, { clientCA: true })
    expect(record.exitCode, record.stderr).toBe(0)
    expect(stepRequests()).toEqual([{ path: expect.stringContaining('watch=true'), ...credential }])
  })

  it('an empty stolen token: refused, no request', async () => {
    resetSeen()
    await expect(
      watch({ token: 'stolen' }, { clientCA: true, captures: { stolen: '' } }),
    ).rejects.toMatchObject({
      code: 'PURPLE_COMMAND_FAILED',
    })
    expect(seen()).toEqual([])
  })
})

describe('KubeApi never sends an empty token as the harness', () => {
  it('refuses token: "" before any request', async () => {
    resetSeen()
    const api = KubeApi.fromKubeconfig(kubeconfig, 'purplekind-test')
    await expect(
      api.request('GET', '/api/v1/secrets', undefined, { as: { kind: 'token', token: '' } }),
    ).rejects.toThrow(/token is empty/)
    expect(seen()).toEqual([])
  })
})

describe('tools that do not talk to the apiserver', () => {
  it('a cloud CLI step sends nothing to the apiserver', async (ctx) => {
    if (!existsSync('/opt/purplekind/venv/bin/aws')) {
      console.log('skipped: /opt/purplekind/venv/bin/aws is not installed (scripts/setup.sh installs it)')
      return ctx.skip()
    }
    resetSeen()
    const step = makeStep({
      id: 'aws-version',
      kind: 'benign',
      actor: { cloud: 'aws' },
      run: ['aws', '--version'],
    })
    const record = await runAction(step, context({ clientCA: true }))
    expect(record.exitCode, record.stderr).toBe(0)
    expect(seen()).toEqual([])
  }, 60_000)
})
