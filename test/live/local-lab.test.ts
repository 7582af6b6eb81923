// Live proof of the local lab: a real apiserver whose audit webhook reaches the receiver within 2 s, a
// kwok pod whose `kubectl exec` runs in the sandbox namespace and reaches only the decoy IMDS, and a
// `down` that leaves no process or namespace behind; and a run whose IMDS credential fetch is decoy-access
// evidence of its step.
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KubeApi } from '../../src/kube/api.js'
import { resolveAssets } from '../../src/lab/assets.js'
import { receivedAtMs } from '../../src/lab/audit-receiver.js'
import { makeCanaries } from '../../src/lab/decoys/canaries.js'
import { type ImdsDecoy, imdsCredentials, startImds } from '../../src/lab/decoys/imds.js'
import { labDir, labDown, labStatus, labUp, NODE_NAME, webhookToken } from '../../src/lab/local/index.js'
import { readState } from '../../src/lab/local/state.js'
import { netnsExists } from '../../src/lab/netns.js'
import { isAlive } from '../../src/lab/process.js'
import type { Lab, TelemetryCollector } from '../../src/lab/provider.js'
import { type ActionContext, runAction } from '../../src/run/actions.js'
import type { TelemetryEvent } from '../../src/telemetry/event.js'
import { step } from '../unit/run/helpers.js'

const NAME = 'livetest'
const NS = 'purplekind-live'
const log = (line: string) => console.log(`[local-lab] ${line}`)
const isRoot = process.getuid?.() === 0
if (!isRoot) console.log('[local-lab] SKIPPED: the local lab needs root (it creates a network namespace)')

describe.skipIf(!isRoot)('local lab (live)', () => {
  let lab: Lab
  let receiver: TelemetryCollector
  let imds: ImdsDecoy
  const events: TelemetryEvent[] = []
  const timings: Record<string, number> = {}

  const kubeconfigPem = () => {
    const p = `${labDir(NAME)}/pki`
    return {
      caPem: readFileSync(`${p}/ca.crt`, 'utf8'),
      certPem: readFileSync(`${p}/admin.crt`, 'utf8'),
      keyPem: readFileSync(`${p}/admin.key`, 'utf8'),
    }
  }
  const admin = () => KubeApi.fromPem({ server: lab.manifest.apiserver as string, ...kubeconfigPem() })
  const kubectl = (args: string[]) =>
    execa(`${lab.binDir}/kubectl`, ['--kubeconfig', lab.kubeconfig, ...args], {
      reject: false,
      timeout: 60_000,
    })
  const waitEvent = async (pred: (e: TelemetryEvent) => boolean, ms: number) => {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      const hit = events.find(pred)
      if (hit) return hit
      await sleep(20)
    }
    return undefined
  }

  beforeAll(async () => {
    const t0 = Date.now()
    const assets = await resolveAssets({ build: true, log })
    timings.assetsMs = Date.now() - t0
    log(`binaries (${assets.origin}) in ${assets.binDir}`)
    await labDown({ name: NAME, log })
    const t1 = Date.now()
    lab = await labUp({ name: NAME, log })
    timings.upMs = Date.now() - t1
    receiver = lab.collectors[0] as TelemetryCollector
    await receiver.start((e) => events.push(e))
    const hostUrl = new URL(lab.decoys.imds?.hostUrl ?? '')
    imds = await startImds({
      host: hostUrl.hostname,
      port: Number(hostUrl.port),
      canary: imdsCredentials(makeCanaries('livetest')),
      role: lab.decoys.imds?.role ?? '',
    })
  })

  afterAll(async () => {
    await receiver?.stop()
    await imds?.stop()
    await labDown({ name: NAME, log })
    log(`timings: ${JSON.stringify(timings)}`)
  })

  it('reports a healthy lab with the expected context and capabilities', async () => {
    expect(lab.context).toBe(`purplekind-${NAME}`)
    expect(lab.capabilities).toEqual({ realPods: false, networkPolicy: false, docker: false })
    expect(lab.manifest.auditPolicySha256).toMatch(/^[0-9a-f]{64}$/)
    expect(lab.decoys.imds?.url).toBe('http://169.254.169.254')
    expect(await labStatus({ name: NAME })).toMatchObject({ running: true })
    const version = await kubectl(['version', '-o', 'json'])
    expect(JSON.parse(version.stdout).serverVersion.gitVersion).toBe('v1.36.3')
    log(`warm lab-up: ${timings.upMs} ms`)
    expect(timings.upMs).toBeLessThan(30_000)
  })

  it('(a) delivers an impersonated secrets list to the webhook receiver within 2 s, keyed by Audit-ID', async () => {
    const sent = Date.now()
    const res = await admin().request('GET', '/api/v1/namespaces/default/secrets', undefined, {
      as: { kind: 'impersonate', user: 'jane.doe', groups: ['purple-devs', 'system:authenticated'] },
    })
    const auditId = res.auditID
    expect(res.headers['audit-id']).toBe(auditId)
    expect(res.status).toBe(403) // jane has no RBAC: the attempt is still audited
    const ev = await waitEvent((e) => e.auditID === auditId && e.raw.stage === 'ResponseComplete', 2000)
    expect(ev, 'audit event within 2 s').toBeDefined()
    const raw = ev?.raw as {
      verb: string
      objectRef: { resource: string }
      user: { username: string }
      impersonatedUser: { username: string; groups: string[] }
    }
    expect(raw.verb).toBe('list')
    expect(raw.objectRef.resource).toBe('secrets')
    expect(raw.impersonatedUser.username).toBe('jane.doe')
    expect(raw.impersonatedUser.groups).toEqual(['purple-devs', 'system:authenticated'])
    expect(raw.user.username).toBe('purplekind-admin')
    timings.auditLatencyMs = (receivedAtMs(ev as TelemetryEvent) ?? Number.NaN) - sent
    expect(timings.auditLatencyMs).toBeLessThan(2000)
  })

  it('runs a kwok pod whose exec reaches the decoy IMDS, audited with the command in requestURI', async () => {
    expect((await kubectl(['create', 'namespace', NS])).exitCode).toBe(0)
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'victim', namespace: NS },
      spec: { nodeName: NODE_NAME, containers: [{ name: 'app', image: 'purplekind/victim:1' }] },
    }
    // The ServiceAccount admission plugin needs kcm to have created `default` in the new namespace.
    let created = 0
    for (let i = 0; i < 50 && created !== 201; i++) {
      created = (await admin().request('POST', `/api/v1/namespaces/${NS}/pods`, pod)).status
      if (created !== 201) await sleep(200)
    }
    expect(created).toBe(201)
    const ready = await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/victim', '--timeout=30s'])
    expect(ready.exitCode, ready.stderr).toBe(0)

    const url = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'
    const execd = await kubectl(['-n', NS, 'exec', 'victim', '--', 'curl', '-s', url])
    expect(execd.exitCode, execd.stderr).toBe(0)
    expect(execd.stdout.trim()).toBe(lab.decoys.imds?.role)
    expect(imds.events().some((r) => r.path === '/latest/meta-data/iam/security-credentials/')).toBe(true)

    const ev = await waitEvent(
      (e) =>
        (e.raw.objectRef as Record<string, unknown> | undefined)?.subresource === 'exec' &&
        e.raw.verb === 'get',
      2000,
    )
    expect(ev).toBeDefined()
    const uri = String(ev?.raw.requestURI)
    expect(uri).toContain(`/api/v1/namespaces/${NS}/pods/victim/exec?`)
    expect(uri).toContain('command=curl')
    expect(uri).toContain('169.254.169.254')
    expect(ev?.raw.level).toBe('Request')

    const logs = await kubectl(['-n', NS, 'logs', 'victim'])
    expect(logs.stdout).toContain('simulated container log')
  })

  it('(c) confines exec to the sandbox: unprivileged, no route out, host apiserver unreachable', async () => {
    const id = await kubectl(['-n', NS, 'exec', 'victim', '--', 'id', '-u'])
    expect(id.stdout.trim()).toBe('65534')
    const port = new URL(lab.manifest.apiserver as string).port
    const toApiserver = await kubectl([
      '-n',
      NS,
      'exec',
      'victim',
      '--',
      'curl',
      '-sS',
      '-k',
      '-m',
      '3',
      `https://127.0.0.1:${port}/version`,
    ])
    expect(toApiserver.exitCode).not.toBe(0)
    expect(toApiserver.stderr).toMatch(/Failed to connect|Couldn't connect|Connection refused|reset/i)
    // TEST-NET-1: no route exists in the namespace, so this fails before any packet leaves it.
    const outside = await kubectl([
      '-n',
      NS,
      'exec',
      'victim',
      '--',
      'curl',
      '-sS',
      '-m',
      '3',
      'http://192.0.2.1/',
    ])
    expect(outside.exitCode).not.toBe(0)
    expect(outside.stderr).toMatch(/unreachable|Failed to connect|Couldn't connect/i)
  })

  it('stages pod files in the sandbox private /run only (never on the host)', async () => {
    const path = '/var/run/secrets/kubernetes.io/serviceaccount/token'
    await lab.stagePodFiles?.({ namespace: NS, name: 'victim' }, { [path]: 'staged-token-123' })
    const cat = await kubectl(['-n', NS, 'exec', 'victim', '--', 'cat', path])
    expect(cat.stdout).toBe('staged-token-123')
    expect(existsSync('/run/secrets/kubernetes.io')).toBe(false)
    const run = await kubectl(['-n', NS, 'exec', 'victim', '--', 'ls', '-A', '/run'])
    expect(run.stdout.trim()).toBe('secrets')
    await expect(
      lab.stagePodFiles?.({ namespace: NS, name: 'victim' }, { '/etc/passwd': 'x' }),
    ).rejects.toThrow(/only under \/var\/run/)
  })

  it('(c) the receiver refuses a wrong token, a wrong path and a wrong method', async () => {
    const port = portOf('receiver')
    const post = (path: string, token: string, method = 'POST') =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path,
            method,
            ca: kubeconfigPem().caPem,
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          },
        )
        req.on('error', reject)
        req.end(
          method === 'POST' ? '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}' : undefined,
        )
      })
    const token = await webhookToken(NAME)
    expect(await post('/audit', 'wrong-token')).toBe(401)
    expect(await post('/audit', token)).toBe(200)
    expect(await post('/elsewhere', token)).toBe(404)
    expect(await post('/audit', token, 'GET')).toBe(405)
  })

  it('(f) an api step with an empty stolen token is refused, and the audit trail shows no request for it', async () => {
    const ua = `purplekind-empty-token/${randomUUID()}`
    const useStolen = step({
      id: 'use-stolen',
      title: 'list secrets with a token an earlier step failed to steal',
      actor: { token: 'stolen' },
      run: ['api', 'list', 'secrets', '-n', 'default', '--user-agent', ua],
    })
    const runDir = await mkdtemp(join(tmpdir(), 'purplekind-empty-token-'))
    const api = KubeApi.fromKubeconfig(lab.kubeconfig, lab.context)
    const ctx: ActionContext = {
      runId: 'empty-token',
      lab,
      api,
      runDir,
      captures: new Map([['stolen', '  \n']]),
      tokens: new Map(),
      venvBin: '/nonexistent',
      cloudEnv: () => ({}),
    }
    try {
      const e = await runAction(useStolen, ctx).catch((x: unknown) => x)
      expect(e).toMatchObject({ code: 'PURPLE_COMMAND_FAILED', message: expect.stringMatching(/is empty/) })
      expect(api.sent.size).toBe(0)
      // Control: a request with the same user agent is audited, so the trail would show the step's.
      const control = await api.request('GET', '/api/v1/namespaces/default/secrets', undefined, {
        userAgent: ua,
      })
      const seen = await waitEvent((x) => x.auditID === control.auditID, 5000)
      expect(seen, 'the control request is audited').toBeDefined()
      const withUa = events.filter((x) => (x.raw as { userAgent?: string }).userAgent === ua)
      expect(new Set(withUa.map((x) => x.auditID))).toEqual(new Set([control.auditID]))
    } finally {
      await rm(runDir, { recursive: true, force: true })
    }
  })

  it('(d) down removes every process and the namespace; a second up is warm and reuse is instant', async () => {
    const state = readState(`${labDir(NAME)}/state.json`)
    expect(state?.daemons.length).toBeGreaterThanOrEqual(6)
    await receiver.stop()
    await labDown({ name: NAME, log })
    for (const d of state?.daemons ?? []) expect(isAlive(d), d.name).toBe(false)
    expect(netnsExists(`purplekind-${NAME}`)).toBe(false)
    expect((await labStatus({ name: NAME })).running).toBe(false)

    const t = Date.now()
    lab = await labUp({ name: NAME, log })
    timings.secondUpMs = Date.now() - t
    expect(timings.secondUpMs).toBeLessThan(30_000)
    const r = Date.now()
    await labUp({ name: NAME, log })
    timings.reuseMs = Date.now() - r
    expect(timings.reuseMs).toBeLessThan(3000)
  })

  it('(e) after a component crash, status says so and the next up cleans up and starts afresh', async () => {
    const state = readState(`${labDir(NAME)}/state.json`)
    const kwok = state?.daemons.find((d) => d.name === 'kwok')
    expect(kwok && isAlive(kwok)).toBe(true)
    process.kill(-(kwok?.pid ?? 0), 'SIGKILL')
    for (let i = 0; i < 40 && kwok && isAlive(kwok); i++) await sleep(50)
    const status = await labStatus({ name: NAME })
    expect(status.running).toBe(false)
    expect(status.detail).toContain('down: kwok')
    lab = await labUp({ name: NAME, log })
    const fresh = readState(`${labDir(NAME)}/state.json`)
    for (const d of state?.daemons ?? []) expect(isAlive(d), `old ${d.name}`).toBe(false)
    expect(fresh?.daemons.every(isAlive)).toBe(true)
    expect((await kubectl(['get', 'node', NODE_NAME])).exitCode).toBe(0)
  })

  it('a run on the local lab ties the IMDS credential fetch to its step as decoy-access evidence', async () => {
    // The run serves IMDS itself on the lab's bridged port and receives the audit webhook itself:
    // release what this test started on those ports.
    await imds.stop()
    await receiver.stop()
    const dir = await mkdtemp(join(tmpdir(), 'purplekind-local-imds-'))
    try {
      const step = 't1552.007.imds-and-cloud-cli/imds-get-credentials'
      const run = await execa(
        'node',
        [
          'dist/cli/main.js',
          '--json',
          'run',
          '--env',
          'local',
          '--lab',
          NAME,
          '--only',
          step,
          '--reports',
          dir,
          'scenarios/t1552.007/04-imds-and-cloud-cli.yaml',
        ],
        { reject: false, env: { NO_COLOR: '1' }, timeout: 300_000 },
      )
      const reportFile = join(dir, 'latest', 'report.json')
      expect(existsSync(reportFile), `exit ${run.exitCode}\n${run.stdout}\n${run.stderr.slice(-3000)}`).toBe(
        true,
      )
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
        provider: string
        telemetry: Record<string, number>
        steps: { step: string; verdict: string; evidence: { source: string; excerpt: string }[] }[]
      }
      expect(report.provider).toBe('local')
      expect(report.telemetry['decoy-access'] ?? 0).toBeGreaterThanOrEqual(2)
      const fetched = report.steps.find((s) => s.step === 'imds-get-credentials')
      expect(fetched?.verdict, run.stderr.slice(-2000)).toBe('DETECTED')
      const decoy = fetched?.evidence.filter((e) => e.source === 'decoy-access') ?? []
      log(`decoy-access evidence: ${JSON.stringify(decoy)}`)
      expect(decoy.map((e) => e.excerpt)).toContainEqual(
        expect.stringMatching(/^imds GET \/latest\/meta-data\/iam\/security-credentials\/\S+ → 200$/),
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 320_000)

  function portOf(key: string): number {
    const m = new RegExp(`${key}=(\\d+)`).exec(String(lab.manifest.ports))
    return Number(m?.[1])
  }
})
