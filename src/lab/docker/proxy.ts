// A logging proxy in front of the Docker socket. Engine events miss calls such as `docker logs`, so the
// lab's DOCKER_HOST points here: every byte is forwarded unchanged to the real socket (hijacked attach/exec
// streams included, with half-close preserved) while an HttpObserver records each API call.
import { appendFileSync, chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import { dirname } from 'node:path'
import { PurpleError } from '../../errors.js'
import { DEFAULT_DOCKER_SOCKET } from './engine.js'
import { type DockerApiRecord, HttpObserver } from './http-observer.js'

export interface DockerApiProxy {
  readonly socketPath: string
  /** Environment for the docker CLI and dockerode: DOCKER_HOST pointing at the proxy. */
  readonly env: Record<string, string>
  /** Calls seen so far (bounded to the most recent 10 000). */
  records(): readonly DockerApiRecord[]
  /** Receive each call as it completes; returns an unsubscribe function. */
  subscribe(listener: (record: DockerApiRecord) => void): () => void
  stop(): Promise<void>
}

export interface ProxyOptions {
  /** Unix socket to listen on (default /run/purplekind/docker-<lab>.sock). */
  socketPath?: string
  lab?: string
  upstream?: string
  /** Also append each record as a JSON line here (for a lab that outlives this process). */
  recordFile?: string
  log: (line: string) => void
}

const MAX_RECORDS = 10_000

export function proxySocketPath(lab: string): string {
  return `/run/purplekind/docker-${lab}.sock`
}

export async function startDockerApiProxy(options: ProxyOptions): Promise<DockerApiProxy> {
  const socketPath = options.socketPath ?? proxySocketPath(options.lab ?? 'default')
  const upstream = options.upstream ?? DEFAULT_DOCKER_SOCKET
  const kept: DockerApiRecord[] = []
  const listeners = new Set<(record: DockerApiRecord) => void>()
  const sockets = new Set<net.Socket>()
  let connections = 0

  const emit = (record: DockerApiRecord) => {
    kept.push(record)
    if (kept.length > MAX_RECORDS) kept.shift()
    if (options.recordFile) appendFileSync(options.recordFile, `${JSON.stringify(record)}\n`)
    for (const listener of listeners) listener(record)
  }

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const observer = new HttpObserver(++connections, emit)
    const server = net.connect({ path: upstream, allowHalfOpen: true })
    sockets.add(client).add(server)
    client.on('data', (chunk: Buffer) => observer.fromClient(chunk))
    server.on('data', (chunk: Buffer) => observer.fromServer(chunk))
    client.pipe(server)
    server.pipe(client)
    const finish = () => {
      observer.close()
      sockets.delete(client)
      sockets.delete(server)
    }
    client.on('close', finish)
    server.on('close', finish)
    client.on('error', () => server.destroy())
    server.on('error', (err) => {
      options.log(`docker-proxy: upstream ${upstream}: ${err.message}`)
      client.destroy()
    })
  })

  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 })
  if (existsSync(socketPath)) rmSync(socketPath)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new PurpleError(
          'PURPLE_LAB_FAILED',
          `docker API proxy cannot listen on ${socketPath}: ${err.message}`,
        ),
      ),
    )
    server.listen(socketPath, () => resolve())
  })
  // The socket is as powerful as the engine's own: owner-only, whatever the umask.
  chmodSync(socketPath, 0o600)
  options.log(`docker-proxy: ${socketPath} → ${upstream}`)

  let stopped: Promise<void> | undefined
  return {
    socketPath,
    env: { DOCKER_HOST: `unix://${socketPath}` },
    records: () => kept,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }).finally(() => rmSync(socketPath, { force: true }))
      return stopped
    },
  }
}
