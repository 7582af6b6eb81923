import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type ActionContext, actionTimeoutMs, runAction, TIMED_OUT_EXIT } from '../../../src/run/actions.js'
import { decideVerdict } from '../../../src/run/verdict.js'
import { writeKubeconfig } from '../kube/fake-apiserver.js'
import { step } from './helpers.js'

// A real child process that outlives its timeout is killed, and the step says so. The "aws CLI" here is
// a fake (a shell script in a temporary venv bin): the real one is not needed to prove the timeout.
describe('per-step timeout', async () => {
  const bin = await mkdtemp(path.join(tmpdir(), 'purplekind-timeout-'))
  afterAll(() => rm(bin, { recursive: true, force: true }))
  await writeFile(path.join(bin, 'aws'), '#!/bin/sh\necho started >&2\nexec sleep 30\n')
  await chmod(path.join(bin, 'aws'), 0o755)
  const ctx = {
    runId: 'r1',
    venvBin: bin,
    cloudEnv: () => ({}),
    captures: new Map(),
    tokens: new Map(),
    stepTimeoutMs: 60_000,
  } as unknown as ActionContext

  it('the step timeout wins over the run default, which wins over 60 s', () => {
    expect(actionTimeoutMs(step({ timeout: '2m' }), ctx)).toBe(120_000)
    expect(actionTimeoutMs(step(), { stepTimeoutMs: 5000 })).toBe(5000)
    expect(actionTimeoutMs(step(), {})).toBe(60_000)
  })

  it('kills an action at its timeout: exit 124 and stderr saying it timed out', async () => {
    const s = step({ actor: { cloud: 'aws' }, run: ['aws', 'sts', 'get-caller-identity'], timeout: '300ms' })
    const started = Date.now()
    const a = await runAction(s, ctx)
    expect(Date.now() - started).toBeLessThan(20_000) // not the 30 s sleep
    expect(a.exitCode).toBe(TIMED_OUT_EXIT)
    expect(a.stderr.split('\n')[0]).toBe(
      "timed out after 300 ms and was killed (raise the step's timeout: or --step-timeout)",
    )
    const v = decideVerdict({
      step: s,
      exitCode: a.exitCode,
      stderr: a.stderr,
      sentAt: a.sentAt,
      events: [],
      alerts: [],
      rules: new Map(),
    })
    expect(v.verdict).toBe('ACTION_FAILED')
    expect(v.explanation).toContain('timed out after 300 ms')
  })
})

// The harness's own API client (`api` steps) honours the same timeout: a loopback TLS server that
// accepts the request and never answers stands in for a hung apiserver.
describe('per-step timeout of api steps', async () => {
  const { execFileSync } = await import('node:child_process')
  const https = await import('node:https')
  const { readFileSync } = await import('node:fs')
  const { KubeApi } = await import('../../../src/kube/api.js')
  const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-api-timeout-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  const seen: string[] = []
  const server = https.createServer(
    { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
    (req) => {
      seen.push(String(req.headers['audit-id']))
      // never answers
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await rm(dir, { recursive: true, force: true })
  })
  const port = (server.address() as { port: number }).port
  const kubeconfig = await writeKubeconfig(path.join(dir, 'kubeconfig'), {
    server: `https://127.0.0.1:${port}`,
    ca: 'insecure',
    user: { token: 'not-a-real-token' },
    context: 'x',
  })

  it('an api step that hangs is ACTION_FAILED "timed out", keeping its audit ID for correlation', async () => {
    const s = step({
      actor: { user: 'mallory' },
      run: ['api', 'list', 'secrets', '-n', 'purple-app'],
      timeout: '300ms',
    })
    const api = KubeApi.fromKubeconfig(kubeconfig, 'x')
    const lab = { name: 't', context: 'x', kubeconfig, manifest: {} }
    const a = await runAction(s, { runId: 'r1', api, lab, stepTimeoutMs: 60_000 } as unknown as ActionContext)
    expect(a.exitCode).toBe(TIMED_OUT_EXIT)
    expect(a.stderr).toMatch(/^timed out after 300 ms/)
    expect(a.auditIDs).toEqual(seen)
    expect(a.endedAt - a.sentAt).toBeLessThan(20_000)
  })
})
