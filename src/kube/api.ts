// The one Kubernetes apiserver client of the project: the runner, exercises, the labs' readiness probes,
// the existing-cluster preflight and sweep all talk HTTPS to an apiserver through it.
//
// Every request carries a fresh `Audit-ID` header, which the apiserver keeps as the audit event's
// `auditID`: the exact key that ties an action to its telemetry, and how the harness recognises its own
// traffic (`sent`). Raw node:https, not @kubernetes/client-node's request path: that path sends headers
// through node-fetch, which joins repeated values into one line ("a,b"), and the apiserver reads each
// `Impersonate-Group` line as one group; and its credentials are fixed per KubeConfig, not per request.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import https from 'node:https'
import { KubeConfig } from '@kubernetes/client-node'
import { PurpleError } from '../errors.js'

/** Whose credential a request presents. Only `harness` and `impersonate` use the client's own credential. */
export type Credential =
  /** The kubeconfig's own user: the harness acting for itself (setup, cleanup, probes). */
  | { kind: 'harness' }
  /** The harness's credential asking to act as this user; only where the lab has no client CA. */
  | { kind: 'impersonate'; user: string; groups: readonly string[] }
  /** An actor's bearer token and nothing of the harness's. */
  | { kind: 'token'; token: string }
  /** An actor's client certificate and nothing of the harness's. */
  | { kind: 'cert'; certPem: string; keyPem: string }

export interface RequestOptions {
  /** The harness's own credential when absent. */
  as?: Credential
  userAgent?: string
  /** The whole request (not only an idle socket) is abandoned after this long: a step's timeout. */
  timeoutMs?: number
  /** Send this Audit-ID instead of a fresh one: a probe that waits for its own audit event. */
  auditID?: string
}

export interface ApiResponse {
  status: number
  /** The parsed JSON body; the text when it is not JSON; undefined when empty. */
  body: unknown
  headers: IncomingHttpHeaders
  /** The Audit-ID the request carried. */
  auditID: string
}

/** A server given by PEMs rather than a kubeconfig (the local lab's admin, kwok's health port). */
export interface PemTarget {
  server: string
  caPem: string
  certPem?: string
  keyPem?: string
}

/** A request abandoned at its `timeoutMs`; it was sent, so its audit ID may still be in the audit log. */
export class ApiTimeoutError extends PurpleError {
  constructor(
    readonly auditID: string,
    readonly timeoutMs: number,
    what: string,
  ) {
    super('PURPLE_LAB_FAILED', `API ${what} timed out after ${timeoutMs} ms`)
  }
}

/** Without a `timeoutMs`, a socket idle this long ends the request. */
const IDLE_TIMEOUT_MS = 30_000
/** A response larger than this is refused (the largest list a lab serves is a few MB). */
const MAX_BODY_BYTES = 64 * 1024 * 1024

export class KubeApi {
  readonly #kc: KubeConfig
  readonly #server: URL
  /** Audit ids of every request this client sent (the harness's own traffic). */
  readonly sent = new Set<string>()

  /** A client for `context` of the kubeconfig file at `path`. */
  static fromKubeconfig(path: string, context: string): KubeApi {
    const kc = new KubeConfig()
    try {
      kc.loadFromFile(path)
      kc.setCurrentContext(context)
    } catch (e) {
      throw new PurpleError('PURPLE_LAB_FAILED', `${path}: cannot read kubeconfig: ${(e as Error).message}`)
    }
    return new KubeApi(kc, `${path}: context ${context}`)
  }

  /** A client for a server given by PEMs; without `certPem` the client presents no credential. */
  static fromPem(target: PemTarget): KubeApi {
    const kc = new KubeConfig()
    const b64 = (pem: string) => Buffer.from(pem).toString('base64')
    kc.loadFromOptions({
      clusters: [{ name: 'target', server: target.server, caData: b64(target.caPem), skipTLSVerify: false }],
      users: [
        target.certPem && target.keyPem
          ? { name: 'target', certData: b64(target.certPem), keyData: b64(target.keyPem) }
          : { name: 'target' },
      ],
      contexts: [{ name: 'target', cluster: 'target', user: 'target' }],
      currentContext: 'target',
    })
    return new KubeApi(kc, target.server)
  }

  private constructor(kc: KubeConfig, what: string) {
    this.#kc = kc
    const cluster = kc.getCurrentCluster()
    if (!cluster) throw new PurpleError('PURPLE_LAB_FAILED', `${what} has no cluster`)
    try {
      this.#server = new URL(cluster.server)
    } catch {
      throw new PurpleError('PURPLE_LAB_FAILED', `${what}: server "${cluster.server}" is not a URL`)
    }
    if (this.#server.protocol !== 'https:')
      throw new PurpleError('PURPLE_LAB_FAILED', `${what}: server ${cluster.server} is not https`)
  }

  get server(): string {
    return this.#server.toString()
  }

  /** The cluster's CA (base64 PEM), inline or read from its file, for kubeconfigs written for actors. */
  get caData(): string | undefined {
    const cluster = this.#kc.getCurrentCluster()
    if (cluster?.caData) return cluster.caData
    return cluster?.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined
  }

  async request(method: string, path: string, body?: unknown, o: RequestOptions = {}): Promise<ApiResponse> {
    const what = `${method} ${path}`
    const as = o.as ?? { kind: 'harness' }
    const headers: Record<string, string | string[]> = {
      Accept: 'application/json',
      'User-Agent': o.userAgent ?? 'purplekind-harness/0.1',
    }
    if (body !== undefined)
      headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
    const tls = await this.#credentialOptions(as, headers, what)
    // The header goes in last: nothing above (a kubeconfig's headers) can replace it.
    const auditID = o.auditID ?? randomUUID()
    headers['Audit-ID'] = auditID
    this.sent.add(auditID)
    const data = body === undefined ? undefined : JSON.stringify(body)
    // Explicit: node sends a DELETE body only with a length (DeleteOptions ride in the body).
    if (data !== undefined) headers['Content-Length'] = String(Buffer.byteLength(data))
    const prefix = this.#server.pathname.replace(/\/$/, '')
    return await new Promise<ApiResponse>((resolve, reject) => {
      const failed = (e: Error) =>
        reject(
          e instanceof PurpleError
            ? e
            : new PurpleError('PURPLE_LAB_FAILED', `API ${what} failed: ${e.message}`, { cause: e }),
        )
      let req: ReturnType<typeof https.request>
      try {
        req = https.request(
          {
            ...tls,
            method,
            host: this.#server.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: this.#server.port || 443,
            path: prefix + path,
            headers,
          },
          (res) => {
            const chunks: Buffer[] = []
            let size = 0
            res.on('data', (c: Buffer) => {
              size += c.length
              if (size > MAX_BODY_BYTES)
                req.destroy(
                  new PurpleError('PURPLE_LAB_FAILED', `API ${what}: response over ${MAX_BODY_BYTES} bytes`),
                )
              else chunks.push(c)
            })
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: parseBody(Buffer.concat(chunks).toString('utf8')),
                headers: res.headers,
                auditID,
              }),
            )
            res.on('error', failed)
          },
        )
      } catch (e) {
        // node refuses some options (a header with control characters) before any byte is sent
        failed(e as Error)
        return
      }
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS} ms`)))
      const limit = o.timeoutMs
      const timer =
        limit === undefined
          ? undefined
          : setTimeout(() => req.destroy(new ApiTimeoutError(auditID, limit, what)), limit)
      req.on('close', () => clearTimeout(timer))
      req.on('error', failed)
      req.end(data)
    })
  }

  /** Like request as the harness, but a non-2xx status (outside `okStatuses`) is an error. */
  async must(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<ApiResponse> {
    const res = await this.request(method, path, body)
    if ((res.status < 200 || res.status >= 300) && !okStatuses.includes(res.status)) {
      const msg = (res.body as { message?: string } | undefined)?.message ?? String(res.body).slice(0, 200)
      throw new PurpleError('PURPLE_LAB_FAILED', `API ${method} ${path}: HTTP ${res.status}: ${msg}`)
    }
    return res
  }

  /** Why `path` does not answer 200 within `timeoutMs` (unreachable, or another status); undefined if it does. */
  async unready(timeoutMs = 5000, path = '/readyz'): Promise<string | undefined> {
    try {
      const res = await this.request('GET', path, undefined, { timeoutMs })
      return res.status === 200 ? undefined : `apiserver ${this.server} ${path} answered HTTP ${res.status}`
    } catch (e) {
      const why = (e as Error).message.replace(`API GET ${path} failed: `, '')
      return `apiserver ${this.server} unreachable: ${why}`
    }
  }

  /**
   * TLS options and headers for a credential. An actor's own credential gets only the cluster's CA and
   * TLS settings from the kubeconfig: its certificate, key, token, exec plugin or agent never ride along
   * (with both, the apiserver would authenticate the x509 certificate over a bearer token).
   */
  async #credentialOptions(
    as: Credential,
    headers: Record<string, string | string[]>,
    what: string,
  ): Promise<https.RequestOptions> {
    switch (as.kind) {
      case 'token': {
        const token = as.token.trim()
        if (!token)
          throw new PurpleError(
            'PURPLE_COMMAND_FAILED',
            `API ${what}: the actor's token is empty; not sending a request that would go out as the harness`,
          )
        if (!/^[\x21-\x7e]+$/.test(token))
          throw new PurpleError(
            'PURPLE_COMMAND_FAILED',
            `API ${what}: the actor's token is not a bearer token`,
          )
        headers.Authorization = `Bearer ${token}`
        return this.#clusterTls()
      }
      case 'cert':
        if (!as.certPem.trim() || !as.keyPem.trim())
          throw new PurpleError(
            'PURPLE_COMMAND_FAILED',
            `API ${what}: the actor's client certificate or key is empty; not sending the request`,
          )
        return { ...this.#clusterTls(), cert: as.certPem, key: as.keyPem }
      case 'impersonate':
        if (!as.user.trim())
          throw new PurpleError(
            'PURPLE_COMMAND_FAILED',
            `API ${what}: no user to impersonate; not sending a request that would go out as the harness`,
          )
        headers['Impersonate-User'] = as.user
        // An array makes node send one header line per group; the apiserver reads each line as one group.
        if (as.groups.length) headers['Impersonate-Group'] = [...as.groups]
        return await this.#harnessOptions(headers, what)
      case 'harness':
        return await this.#harnessOptions(headers, what)
    }
  }

  /** The kubeconfig's own credential (client certificate, token, exec plugin …) with its TLS settings. */
  async #harnessOptions(
    headers: Record<string, string | string[]>,
    what: string,
  ): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { headers: {} }
    try {
      await this.#kc.applyToHTTPSOptions(opts)
    } catch (e) {
      throw new PurpleError(
        'PURPLE_LAB_FAILED',
        `API ${what}: kubeconfig credentials: ${(e as Error).message}`,
        {
          cause: e,
        },
      )
    }
    // The kubeconfig's headers (Authorization, its own Impersonate-User) join ours; ours win.
    for (const [k, v] of Object.entries(opts.headers ?? {}))
      if (v !== undefined && !(k in headers)) headers[k] = Array.isArray(v) ? v : String(v)
    const { headers: _, ...rest } = opts
    return rest
  }

  /** Only the cluster's CA, server name and verification setting. */
  #clusterTls(): https.RequestOptions {
    const cluster = this.#kc.getCurrentCluster()
    const opts: https.RequestOptions = {}
    if (cluster?.caData) opts.ca = Buffer.from(cluster.caData, 'base64')
    else if (cluster?.caFile) opts.ca = readFileSync(cluster.caFile)
    if (cluster?.skipTLSVerify) opts.rejectUnauthorized = false
    if (cluster?.tlsServerName) opts.servername = cluster.tlsServerName
    return opts
  }
}

function parseBody(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text // non-JSON bodies (a plain-text /readyz, an HTML error page) are returned as text
  }
}

const CORE = new Set(['pods', 'secrets', 'serviceaccounts', 'configmaps', 'namespaces', 'services', 'nodes'])
const GROUPS = new Map([
  ['roles', 'rbac.authorization.k8s.io/v1'],
  ['rolebindings', 'rbac.authorization.k8s.io/v1'],
  ['clusterroles', 'rbac.authorization.k8s.io/v1'],
  ['clusterrolebindings', 'rbac.authorization.k8s.io/v1'],
  ['networkpolicies', 'networking.k8s.io/v1'],
])

/** REST path for a resource, e.g. ('secrets', 'ns', 'x') → /api/v1/namespaces/ns/secrets/x. */
export function resourcePath(resource: string, namespace?: string, name?: string): string {
  const [plural = '', sub] = resource.split('/')
  const group = GROUPS.get(plural)
  const base = CORE.has(plural) ? '/api/v1' : group ? `/apis/${group}` : undefined
  if (!base)
    throw new PurpleError(
      'PURPLE_SCENARIO_INVALID',
      `resource "${resource}" is not one the harness's API client knows`,
      { hint: `use one of: ${[...CORE, ...GROUPS.keys()].join(', ')}` },
    )
  let p = base
  if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`
  p += `/${plural}`
  if (name) p += `/${encodeURIComponent(name)}`
  if (sub) p += `/${sub}`
  return p
}
