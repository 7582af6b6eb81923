// The one apiserver client (src/kube/api.ts) against a loopback HTTPS server with real TLS: the local
// lab's own PKI (makePki) signs the server and the clients, and the server records what every request
// presented — the client certificate's CN, Authorization, every Impersonate-* header line, Audit-ID.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createServer as createPlainServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PurpleError } from '../../../src/errors.js'
import { ApiTimeoutError, KubeApi, resourcePath } from '../../../src/kube/api.js'
import { makePki } from '../../../src/lab/local/pki.js'
import { mintClientCert } from '../../../src/run/client-cert.js'
import { writeKubeconfig } from './fake-apiserver.js'

interface Seen {
  method: string
  url: string
  cn?: string
  auditID?: string
  authorization?: string
  userAgent?: string
  /** Every Impersonate-* header line, in order, as raw name/value pairs. */
  impersonate: [string, string][]
  body: string
}

const ADMIN_TOKEN = 'admin-token-never-for-actors'
let dir: string
let server: Server
let server2: Server
let port: number
let seen: Seen[] = []
const pem = (f: string) => readFile(path.join(dir, f), 'utf8')
const b64 = async (f: string) => Buffer.from(await pem(f)).toString('base64')

/** A kubeconfig whose user is the lab admin's certificate, or a bearer token. */
async function kubeconfig(user: 'cert' | 'token', server = `https://127.0.0.1:${port}`): Promise<string> {
  return writeKubeconfig(path.join(dir, `${user}-${seen.length}-${Math.random()}.kubeconfig`), {
    server,
    ca: { data: await b64('ca.crt') },
    user:
      user === 'cert'
        ? { 'client-certificate-data': await b64('admin.crt'), 'client-key-data': await b64('admin.key') }
        : { token: ADMIN_TOKEN },
    context: 'purplekind-t',
  })
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'purplekind-kube-api-'))
  await makePki(dir)
  const tls = {
    key: await pem('apiserver.key'),
    cert: await pem('apiserver.crt'),
    ca: await pem('ca.crt'),
    requestCert: true,
    rejectUnauthorized: false,
  }
  server = createServer(tls, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const peer = (req.socket as TLSSocket).getPeerCertificate()
      const cn = peer && 'subject' in peer && peer.subject ? String(peer.subject.CN) : undefined
      const impersonate: [string, string][] = []
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] as string
        if (/^impersonate-/i.test(name))
          impersonate.push([name.toLowerCase(), req.rawHeaders[i + 1] as string])
      }
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        ...(cn ? { cn } : {}),
        ...(req.headers['audit-id'] ? { auditID: String(req.headers['audit-id']) } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
        impersonate,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      if (req.url?.endsWith('/hang')) return // never answers: a hung apiserver
      const status = Number(/\/status\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 200)
      if (req.url?.endsWith('/text')) {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('ok')
        return
      }
      res.writeHead(status, {
        'content-type': 'application/json',
        'audit-id': String(req.headers['audit-id']),
      })
      res.end(JSON.stringify({ kind: 'Status', message: `answered ${status}`, path: req.url }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
  // A second server with a certificate from another CA: a client must refuse it.
  const other = path.join(dir, 'other')
  await mkdir(other)
  await makePki(other)
  server2 = createServer({
    key: await readFile(path.join(other, 'apiserver.key')),
    cert: await readFile(path.join(other, 'apiserver.crt')),
  })
  await new Promise<void>((r) => server2.listen(0, '127.0.0.1', r))
}, 60_000)

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise<void>((r) => server?.close(() => r()))
  await new Promise<void>((r) => server2?.close(() => r()))
  if (dir) await rm(dir, { recursive: true, force: true })
})

beforeEach(() => {
  seen = []
})

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('KubeApi: every request carries a fresh Audit-ID, remembered in `sent`', () => {
  it('sends a new Audit-ID per request and returns it with the parsed body and headers', async () => {
    const api = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    const a = await api.request('GET', '/api/v1/namespaces/x/secrets')
    const b = await api.request('POST', '/api/v1/namespaces/x/secrets', { kind: 'Secret' })
    expect(a.auditID).toMatch(UUID)
    expect(b.auditID).toMatch(UUID)
    expect(a.auditID).not.toBe(b.auditID)
    expect(seen.map((s) => s.auditID)).toEqual([a.auditID, b.auditID])
    expect([...api.sent]).toEqual([a.auditID, b.auditID])
    expect(a).toMatchObject({
      status: 200,
      body: { message: 'answered 200', path: '/api/v1/namespaces/x/secrets' },
    })
    expect(a.headers['audit-id']).toBe(a.auditID)
    expect(seen[1]?.body).toBe('{"kind":"Secret"}')
    expect(seen[0]?.userAgent).toBe('purplekind-harness/0.1')
  })

  it('uses a given Audit-ID (a probe waiting for its own event) and a given user agent', async () => {
    const api = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    const res = await api.request('GET', '/version', undefined, { auditID: 'probe-1', userAgent: 'ua/1' })
    expect(res.auditID).toBe('probe-1')
    expect(seen).toMatchObject([{ auditID: 'probe-1', userAgent: 'ua/1' }])
    expect(api.sent.has('probe-1')).toBe(true)
  })

  it('sends a body with every method, DELETE too (DeleteOptions), with its UTF-8 length', async () => {
    const api = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    await api.request('DELETE', '/api/v1/namespaces/x', {
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
    })
    await api.request('PATCH', '/api/v1/namespaces/x', { metadata: { labels: { a: 'é' } } })
    expect(seen.map((s) => [s.method, s.body])).toEqual([
      ['DELETE', '{"kind":"DeleteOptions","propagationPolicy":"Background"}'],
      ['PATCH', '{"metadata":{"labels":{"a":"é"}}}'],
    ])
  })

  it('gives the cluster CA as base64 whether the kubeconfig inlines it or names its file', async () => {
    const inline = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    const file = await writeKubeconfig(path.join(dir, 'ca-file.kubeconfig'), {
      server: `https://127.0.0.1:${port}`,
      ca: { file: path.join(dir, 'ca.crt') },
      user: {},
      context: 'purplekind-t',
    })
    const byFile = KubeApi.fromKubeconfig(file, 'purplekind-t')
    expect(inline.caData).toBe(await b64('ca.crt'))
    expect(byFile.caData).toBe(await b64('ca.crt'))
    expect(
      (await byFile.request('GET', '/readyz', undefined, { as: { kind: 'token', token: 't' } })).status,
    ).toBe(200)
  })

  it('returns a non-JSON body as text', async () => {
    const api = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    expect((await api.request('GET', '/readyz/text')).body).toBe('ok')
  })

  it('keeps a server URL path prefix in front of every request path', async () => {
    const file = await kubeconfig('cert', `https://127.0.0.1:${port}/k8s/clusters/c-1`)
    await KubeApi.fromKubeconfig(file, 'purplekind-t').request('GET', '/api/v1/nodes')
    expect(seen[0]?.url).toBe('/k8s/clusters/c-1/api/v1/nodes')
  })
})

describe('KubeApi: whose credential each request presents', () => {
  it('the harness: the kubeconfig’s own client certificate, no impersonation', async () => {
    await KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t').request('GET', '/api/v1/secrets')
    expect(seen).toMatchObject([{ cn: 'purplekind-admin', impersonate: [] }])
    expect(seen[0]?.authorization).toBeUndefined()
  })

  it('impersonation: the harness’s certificate, the user, and one Impersonate-Group line per group', async () => {
    const api = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    await api.request('GET', '/api/v1/secrets', undefined, {
      as: {
        kind: 'impersonate',
        user: 'mallory@example.com',
        groups: ['developers', 'system:authenticated'],
      },
    })
    expect(seen).toMatchObject([
      {
        cn: 'purplekind-admin',
        impersonate: [
          ['impersonate-user', 'mallory@example.com'],
          ['impersonate-group', 'developers'],
          ['impersonate-group', 'system:authenticated'],
        ],
      },
    ])
  })

  it.each(['cert', 'token'] as const)(
    'an actor’s token, with a kubeconfig whose user is a %s: only that token, no client certificate',
    async (admin) => {
      const api = KubeApi.fromKubeconfig(await kubeconfig(admin), 'purplekind-t')
      await api.request('GET', '/api/v1/secrets', undefined, {
        as: { kind: 'token', token: ' stolen.jwt\n' },
      })
      expect(seen).toEqual([expect.objectContaining({ authorization: 'Bearer stolen.jwt', impersonate: [] })])
      expect(seen[0]?.cn).toBeUndefined()
    },
  )

  it.each(['cert', 'token'] as const)(
    'an actor’s certificate, with a kubeconfig whose user is a %s: only that certificate, no token',
    async (admin) => {
      const cert = await mintClientCert(
        { cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') },
        'intern@example.com',
        ['developers'],
        dir,
      )
      const api = KubeApi.fromKubeconfig(await kubeconfig(admin), 'purplekind-t')
      await api.request('GET', '/api/v1/secrets', undefined, {
        as: { kind: 'cert', certPem: cert.certPem, keyPem: cert.keyPem },
      })
      expect(seen).toEqual([expect.objectContaining({ cn: 'intern@example.com', impersonate: [] })])
      expect(seen[0]?.authorization).toBeUndefined()
    },
  )

  it('the harness with a token kubeconfig: the kubeconfig’s token', async () => {
    await KubeApi.fromKubeconfig(await kubeconfig('token'), 'purplekind-t').request('GET', '/api/v1/secrets')
    expect(seen).toEqual([expect.objectContaining({ authorization: `Bearer ${ADMIN_TOKEN}` })])
  })

  it.each([
    ['an empty token', { kind: 'token', token: '' }, /token is empty/],
    ['a blank token', { kind: 'token', token: '  \n' }, /token is empty/],
    ['a token with spaces', { kind: 'token', token: 'Error from server' }, /not a bearer token/],
    ['an empty certificate', { kind: 'cert', certPem: '', keyPem: '' }, /certificate or key is empty/],
    ['no user to impersonate', { kind: 'impersonate', user: ' ', groups: [] }, /no user to impersonate/],
  ] as const)('%s: PURPLE_COMMAND_FAILED and no request at all', async (_, as, why) => {
    const api = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    const e = await api.request('GET', '/api/v1/secrets', undefined, { as }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(PurpleError)
    expect(e).toMatchObject({ code: 'PURPLE_COMMAND_FAILED', message: expect.stringMatching(why) })
    expect((e as Error).message).toContain('GET /api/v1/secrets')
    expect(seen).toEqual([])
    expect(api.sent.size).toBe(0)
  })

  it('fromPem: the given certificate, or none at all without one', async () => {
    const target = { server: `https://127.0.0.1:${port}`, caPem: await pem('ca.crt') }
    await KubeApi.fromPem({
      ...target,
      certPem: await pem('admin.crt'),
      keyPem: await pem('admin.key'),
    }).request('GET', '/readyz')
    await KubeApi.fromPem(target).request('GET', '/healthz')
    expect(seen.map((s) => [s.url, s.cn ?? 'none', s.authorization ?? 'none'])).toEqual([
      ['/readyz', 'purplekind-admin', 'none'],
      ['/healthz', 'none', 'none'],
    ])
  })
})

describe('KubeApi: failures are coded errors naming what failed', () => {
  it('must: a non-2xx status is PURPLE_LAB_FAILED with the status and the server’s message', async () => {
    const api = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    await expect(api.must('DELETE', '/api/v1/nodes/status/403')).rejects.toMatchObject({
      code: 'PURPLE_LAB_FAILED',
      message: 'API DELETE /api/v1/nodes/status/403: HTTP 403: answered 403',
    })
    expect((await api.must('POST', '/api/v1/nodes/status/409', {}, [409])).status).toBe(409)
  })

  it('a request past its timeoutMs is an ApiTimeoutError keeping the audit ID the server saw', async () => {
    const api = KubeApi.fromKubeconfig(await kubeconfig('cert'), 'purplekind-t')
    const e = await api.request('GET', '/hang', undefined, { timeoutMs: 200 }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiTimeoutError)
    expect(e).toMatchObject({ code: 'PURPLE_LAB_FAILED', message: 'API GET /hang timed out after 200 ms' })
    expect((e as ApiTimeoutError).auditID).toBe(seen[0]?.auditID)
    expect(api.sent.has((e as ApiTimeoutError).auditID)).toBe(true)
  })

  it('an apiserver nobody listens for: PURPLE_LAB_FAILED naming the request and ECONNREFUSED', async () => {
    const closed = createPlainServer()
    const free = await new Promise<number>((r) =>
      closed.listen(0, '127.0.0.1', () => r((closed.address() as AddressInfo).port)),
    )
    await new Promise((r) => closed.close(r))
    const api = KubeApi.fromPem({ server: `https://127.0.0.1:${free}`, caPem: await pem('ca.crt') })
    await expect(api.request('GET', '/readyz')).rejects.toMatchObject({
      code: 'PURPLE_LAB_FAILED',
      message: expect.stringMatching(/^API GET \/readyz failed: .*ECONNREFUSED/),
    })
  })

  it('a server whose certificate another CA signed is refused before any request is sent', async () => {
    const other = (server2.address() as AddressInfo).port
    const api = KubeApi.fromPem({ server: `https://127.0.0.1:${other}`, caPem: await pem('ca.crt') })
    await expect(api.request('GET', '/readyz')).rejects.toMatchObject({
      code: 'PURPLE_LAB_FAILED',
      message: expect.stringMatching(/^API GET \/readyz failed: .*certificate/),
    })
  })

  it('a kubeconfig that cannot be read, or lacks the context, is PURPLE_LAB_FAILED naming the file', async () => {
    const missing = path.join(dir, 'nope.kubeconfig')
    expect(() => KubeApi.fromKubeconfig(missing, 'x')).toThrow(
      expect.objectContaining({ code: 'PURPLE_LAB_FAILED', message: expect.stringContaining(missing) }),
    )
    const file = await kubeconfig('cert')
    expect(() => KubeApi.fromKubeconfig(file, 'no-such-context')).toThrow(
      expect.objectContaining({ code: 'PURPLE_LAB_FAILED', message: expect.stringContaining(file) }),
    )
  })

  it('refuses a server that is not https', () => {
    expect(() => KubeApi.fromPem({ server: 'http://127.0.0.1:8080', caPem: '' })).toThrow(/is not https/)
  })
})

describe('resourcePath', () => {
  it.each([
    [['secrets', 'ns', 'x'], '/api/v1/namespaces/ns/secrets/x'],
    [['secrets'], '/api/v1/secrets'],
    [['serviceaccounts/token', 'ns', 'sa'], '/api/v1/namespaces/ns/serviceaccounts/sa/token'],
    [['clusterroles', undefined, 'r'], '/apis/rbac.authorization.k8s.io/v1/clusterroles/r'],
    [['networkpolicies', 'ns'], '/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies'],
    [['pods', 'a/b', 'c?d'], '/api/v1/namespaces/a%2Fb/pods/c%3Fd'],
  ] as const)('%j → %s', (args, expected) => {
    expect(resourcePath(...(args as unknown as [string, string?, string?]))).toBe(expected)
  })

  it.each(['widgets', 'constructor', '__proto__', 'toString', ''])(
    'refuses %j as PURPLE_SCENARIO_INVALID',
    (resource) => {
      expect(() => resourcePath(resource)).toThrow(
        expect.objectContaining({ code: 'PURPLE_SCENARIO_INVALID' }),
      )
    },
  )
})
