import { randomUUID } from 'node:crypto'
import https from 'node:https'
import { KubeConfig } from '@kubernetes/client-node'
import { PurpleError } from '../errors.js'

export interface ApiIdentity {
  /** Impersonate this user (and groups) with the kubeconfig's own credentials. */
  user?: string
  groups?: string[]
  /** Act with this bearer token instead of the kubeconfig's credentials. */
  token?: string
  /** Act with this client certificate instead of the kubeconfig's credentials. */
  cert?: { certPem: string; keyPem: string }
  userAgent?: string
  /** The whole request (not only an idle socket) is abandoned after this long: a step's timeout. */
  timeoutMs?: number
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

export interface ApiResponse {
  status: number
  body: unknown
  auditID: string
}

/**
 * The harness's own Kubernetes API client. Every request carries a fresh `Audit-ID` header, which the
 * apiserver keeps as the audit event's `auditID`: the exact key that ties an action to its telemetry.
 * Raw HTTPS because @kubernetes/client-node cannot impersonate groups or set per-request headers.
 */
export class KubeApi {
  readonly #kc: KubeConfig
  readonly #server: URL
  /** Audit ids of every request this client sent (the harness's own traffic). */
  readonly sent = new Set<string>()

  constructor(kubeconfigPath: string, context: string) {
    this.#kc = new KubeConfig()
    try {
      this.#kc.loadFromFile(kubeconfigPath)
    } catch (e) {
      throw new PurpleError(
        'PURPLE_LAB_FAILED',
        `${kubeconfigPath}: cannot read kubeconfig: ${(e as Error).message}`,
      )
    }
    this.#kc.setCurrentContext(context)
    const cluster = this.#kc.getCurrentCluster()
    if (!cluster)
      throw new PurpleError('PURPLE_LAB_FAILED', `${kubeconfigPath}: context ${context} has no cluster`)
    this.#server = new URL(cluster.server)
  }

  get server(): string {
    return this.#server.toString()
  }

  get caData(): string | undefined {
    return this.#kc.getCurrentCluster()?.caData
  }

  async request(method: string, path: string, body?: unknown, who: ApiIdentity = {}): Promise<ApiResponse> {
    const auditID = randomUUID()
    this.sent.add(auditID)
    const headers: Record<string, string | string[]> = {
      'Audit-ID': auditID,
      Accept: 'application/json',
      'User-Agent': who.userAgent ?? 'purplekind-harness/0.1',
    }
    if (body !== undefined)
      headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
    const own = who.token !== undefined || who.cert !== undefined
    if (who.token !== undefined && !who.token.trim())
      throw new PurpleError(
        'PURPLE_COMMAND_FAILED',
        `API ${method} ${path}: the actor's token is empty; not sending a request that would go out as the harness`,
      )
    const opts: https.RequestOptions = { method, headers }
    if (own) {
      // The actor's own credential with only the cluster's CA and TLS settings: the kubeconfig's
      // certificate, key, token or agent must never ride along (x509 would win over a bearer token).
      const tls: https.RequestOptions = {}
      await this.#kc.applyToHTTPSOptions(tls)
      if (tls.ca) opts.ca = tls.ca
      if (tls.rejectUnauthorized !== undefined) opts.rejectUnauthorized = tls.rejectUnauthorized
      if (tls.servername) opts.servername = tls.servername
      if (who.cert) {
        opts.cert = who.cert.certPem
        opts.key = who.cert.keyPem
      }
      if (who.token) headers.Authorization = `Bearer ${who.token}`
    } else {
      if (who.user) headers['Impersonate-User'] = who.user
      // An array makes node send one header line per group; the apiserver reads each line as one group.
      if (who.groups?.length) headers['Impersonate-Group'] = who.groups
      await this.#kc.applyToHTTPSOptions(opts)
    }
    const data = body === undefined ? undefined : JSON.stringify(body)
    return await new Promise<ApiResponse>((resolve, reject) => {
      const req = https.request(
        { ...opts, host: this.#server.hostname, port: this.#server.port, path, headers },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: unknown = text
            try {
              parsed = text ? JSON.parse(text) : undefined
            } catch {
              // non-JSON bodies (rare) are returned as text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, auditID })
          })
        },
      )
      req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)))
      const limit = who.timeoutMs
      const timer =
        limit === undefined
          ? undefined
          : setTimeout(() => req.destroy(new ApiTimeoutError(auditID, limit, `${method} ${path}`)), limit)
      req.on('close', () => clearTimeout(timer))
      req.on('error', (e) =>
        reject(
          e instanceof ApiTimeoutError
            ? e
            : new PurpleError('PURPLE_LAB_FAILED', `API ${method} ${path} failed: ${e.message}`, {
                cause: e,
              }),
        ),
      )
      if (data) req.write(data)
      req.end()
    })
  }

  /** Why the apiserver is not ready (unreachable, or /readyz not 200 within `timeoutMs`); undefined if it is. */
  async unready(timeoutMs = 5000): Promise<string | undefined> {
    try {
      const res = await this.request('GET', '/readyz', undefined, { timeoutMs })
      return res.status === 200 ? undefined : `apiserver ${this.server} /readyz answered HTTP ${res.status}`
    } catch (e) {
      return `apiserver ${this.server} unreachable: ${(e as Error).message.replace(/^API GET \/readyz failed: /, '')}`
    }
  }

  /** Like request, but a non-2xx status is an error (for the harness's own setup and cleanup). */
  async must(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<ApiResponse> {
    const res = await this.request(method, path, body)
    if ((res.status < 200 || res.status >= 300) && !okStatuses.includes(res.status)) {
      const msg = (res.body as { message?: string } | undefined)?.message ?? String(res.body).slice(0, 200)
      throw new PurpleError('PURPLE_LAB_FAILED', `API ${method} ${path}: HTTP ${res.status}: ${msg}`)
    }
    return res
  }
}

const CORE = new Set(['pods', 'secrets', 'serviceaccounts', 'configmaps', 'namespaces', 'services', 'nodes'])
const RBAC = new Set(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'])

/** REST path for a resource, e.g. ('secrets', 'ns', 'x') → /api/v1/namespaces/ns/secrets/x. */
export function resourcePath(resource: string, namespace?: string, name?: string): string {
  const [plural, sub] = resource.split('/')
  const base = CORE.has(plural ?? '')
    ? '/api/v1'
    : RBAC.has(plural ?? '')
      ? '/apis/rbac.authorization.k8s.io/v1'
      : undefined
  if (!base)
    throw new PurpleError(
      'PURPLE_SCENARIO_INVALID',
      `resource "${resource}" is not one the harness's API client knows`,
      {
        hint: `use one of: ${[...CORE, ...RBAC].join(', ')}`,
      },
    )
  let p = base
  if (namespace) p += `/namespaces/${namespace}`
  p += `/${plural}`
  if (name) p += `/${name}`
  if (sub) p += `/${sub}`
  return p
}
