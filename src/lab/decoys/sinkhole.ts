// A loopback HTTP(S) proxy that refuses everything. Cloud CLIs get HTTP(S)_PROXY pointing here with
// NO_PROXY=loopback, so a request for any non-loopback host (a real cloud endpoint the decoy setup missed)
// never leaves the machine, and is recorded so the escape can be reported precisely.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface EscapeAttempt {
  time: string
  /** `CONNECT host:port` for HTTPS, the absolute URL for plain HTTP. */
  target: string
}

export interface Sinkhole {
  readonly url: string
  attempts(): readonly EscapeAttempt[]
  stop(): Promise<void>
}

export const LOOPBACK_NO_PROXY = '127.0.0.1,localhost,::1'

export async function startSinkhole(): Promise<Sinkhole> {
  const attempts: EscapeAttempt[] = []
  const record = (target: string) => attempts.push({ time: new Date().toISOString(), target })
  const server = createServer((req, res) => {
    record(req.url ?? '')
    res.writeHead(403, { 'content-type': 'text/plain' }).end('purplekind: egress refused\n')
  })
  server.on('connect', (req, socket) => {
    record(`CONNECT ${req.url ?? ''}`)
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  let stopped: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    attempts: () => attempts,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      return stopped
    },
  }
}

/** Proxy variables (both spellings) that route every non-loopback request to the sinkhole. */
export function sinkholeEnv(sinkhole: Pick<Sinkhole, 'url'>): Record<string, string> {
  return {
    HTTP_PROXY: sinkhole.url,
    HTTPS_PROXY: sinkhole.url,
    http_proxy: sinkhole.url,
    https_proxy: sinkhole.url,
    NO_PROXY: LOOPBACK_NO_PROXY,
    no_proxy: LOOPBACK_NO_PROXY,
  }
}
