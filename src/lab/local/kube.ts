// Minimal HTTPS client for the lab's apiserver using the admin client certificate: readiness probes,
// creating the node, and raw requests that need headers kubectl cannot set (Audit-ID, Impersonate-*).
import { request } from 'node:https'

export interface ApiTarget {
  readonly server: string
  readonly caPem: string
  readonly certPem?: string
  readonly keyPem?: string
}

export interface ApiResponse {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string | string[] | undefined>
}

export function apiRequest(
  target: ApiTarget,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string | string[]>; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  const url = new URL(path, target.server)
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        ca: target.caPem,
        cert: target.certPem,
        key: target.keyPem,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 10_000} ms`)))
    req.on('error', reject)
    req.end(payload)
  })
}

/** True when GET `path` answers 200 within a second (any error counts as not ready). */
export async function probe(target: ApiTarget, path: string): Promise<boolean> {
  try {
    return (await apiRequest(target, 'GET', path, { timeoutMs: 1000 })).status === 200
  } catch {
    return false
  }
}
