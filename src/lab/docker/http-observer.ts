// Passive HTTP/1.1 observer for one proxied connection. It never alters or delays bytes: it only follows
// message boundaries (Content-Length, chunked) to find each request line and the status that answers it,
// and goes silent once a connection is upgraded or hijacked (docker attach/exec), where raw bytes follow.

import type { DockerApiRecord as ApiCall } from '../../telemetry/sources/docker-api.js'

/** One Docker API call as seen on the wire: the `docker-api` telemetry record plus wire details. */
export interface DockerApiRecord extends ApiCall {
  /** Proxy connection number, to tell apart calls made over one keep-alive connection. */
  conn: number
  /** True when the response switched the connection to a raw stream (101 Upgrade or hijack). */
  upgraded?: boolean
}

interface Head {
  startLine: string
  headers: Map<string, string>
}

/** How many body bytes follow a head, and whether parsing stops after them. */
type BodyMode =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'opaque' }

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'opaque'

const MAX_HEAD = 64 * 1024
const CRLF = Buffer.from('\r\n')
const HEAD_END = Buffer.from('\r\n\r\n')

/** Splits one direction of an HTTP/1.1 byte stream into message heads, skipping bodies. */
export class MessageStream {
  private state: State = 'head'
  private pending = Buffer.alloc(0)
  private remaining = 0
  private opaqueAfterBody = false

  constructor(private readonly onHead: (head: Head) => { body: BodyMode; opaqueAfter?: boolean }) {}

  get opaque(): boolean {
    return this.state === 'opaque'
  }

  /** Makes the rest of the stream raw bytes (after an upgrade seen on the other direction). */
  goOpaque(): void {
    this.state = 'opaque'
    this.pending = Buffer.alloc(0)
  }

  feed(chunk: Buffer): void {
    let buf = chunk
    while (buf.length > 0 && this.state !== 'opaque') buf = this.step(buf)
  }

  private step(buf: Buffer): Buffer {
    switch (this.state) {
      case 'head':
        return this.readHead(buf)
      case 'length':
      case 'chunk-data':
      case 'chunk-crlf':
        return this.skip(buf)
      case 'chunk-size':
      case 'trailer':
        return this.readLine(buf)
      default:
        return Buffer.alloc(0)
    }
  }

  private readHead(buf: Buffer): Buffer {
    this.pending = Buffer.concat([this.pending, buf])
    // Stray CRLFs between messages are allowed (RFC 9112 §2.2).
    while (this.pending.subarray(0, 2).equals(CRLF)) this.pending = this.pending.subarray(2)
    const end = this.pending.indexOf(HEAD_END)
    if (end < 0) {
      if (this.pending.length > MAX_HEAD) this.goOpaque()
      return Buffer.alloc(0)
    }
    const rest = this.pending.subarray(end + 4)
    const head = parseHead(this.pending.subarray(0, end).toString('latin1'))
    this.pending = Buffer.alloc(0)
    const { body, opaqueAfter } = this.onHead(head)
    this.opaqueAfterBody = opaqueAfter ?? false
    this.startBody(body)
    return rest
  }

  private startBody(body: BodyMode): void {
    if (body.kind === 'opaque') {
      this.goOpaque()
      return
    }
    if (body.kind === 'chunked') {
      this.state = 'chunk-size'
      return
    }
    if (body.kind === 'length' && body.length > 0) {
      this.state = 'length'
      this.remaining = body.length
      return
    }
    this.endMessage()
  }

  private endMessage(): void {
    this.state = this.opaqueAfterBody ? 'opaque' : 'head'
  }

  private skip(buf: Buffer): Buffer {
    const n = Math.min(this.remaining, buf.length)
    this.remaining -= n
    if (this.remaining === 0) {
      if (this.state === 'length' || this.state === 'chunk-crlf') {
        if (this.state === 'chunk-crlf') this.state = 'chunk-size'
        else this.endMessage()
      } else {
        this.state = 'chunk-crlf'
        this.remaining = 2
      }
    }
    return buf.subarray(n)
  }

  private readLine(buf: Buffer): Buffer {
    this.pending = Buffer.concat([this.pending, buf])
    const end = this.pending.indexOf(CRLF)
    if (end < 0) {
      if (this.pending.length > MAX_HEAD) this.goOpaque()
      return Buffer.alloc(0)
    }
    const line = this.pending.subarray(0, end).toString('latin1')
    const rest = this.pending.subarray(end + 2)
    this.pending = Buffer.alloc(0)
    if (this.state === 'trailer') {
      if (line === '') this.endMessage()
      return rest
    }
    const size = Number.parseInt(line.split(';')[0] ?? '', 16)
    if (Number.isNaN(size)) {
      this.goOpaque()
      return Buffer.alloc(0)
    }
    if (size === 0) this.state = 'trailer'
    else {
      this.state = 'chunk-data'
      this.remaining = size
    }
    return rest
  }
}

export function parseHead(text: string): Head {
  const [startLine = '', ...lines] = text.split('\r\n')
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { startLine, headers }
}

function bodyOf(headers: Map<string, string>): BodyMode {
  if (/\bchunked\b/i.test(headers.get('transfer-encoding') ?? '')) return { kind: 'chunked' }
  const length = headers.get('content-length')
  if (length !== undefined && /^\d+$/.test(length)) return { kind: 'length', length: Number(length) }
  return { kind: 'none' }
}

/** Docker endpoints whose connection becomes a raw stream after the request (with or without Upgrade). */
const HIJACK_PATH = /\/(containers\/[^/]+\/attach|exec\/[^/]+\/start)$/

/** Pairs requests with responses on one connection and reports each call once its status is known. */
export class HttpObserver {
  private readonly queue: DockerApiRecord[] = []
  private readonly requests: MessageStream
  private readonly responses: MessageStream
  private closed = false

  constructor(
    private readonly conn: number,
    private readonly emit: (record: DockerApiRecord) => void,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.requests = new MessageStream((head) => this.onRequest(head))
    this.responses = new MessageStream((head) => this.onResponse(head))
  }

  fromClient(chunk: Buffer): void {
    this.requests.feed(chunk)
  }

  fromServer(chunk: Buffer): void {
    this.responses.feed(chunk)
  }

  /** Reports calls still waiting for a response (without status). Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const record of this.queue.splice(0)) this.emit(record)
  }

  private onRequest(head: Head): { body: BodyMode; opaqueAfter?: boolean } {
    const [method = '', target = ''] = head.startLine.split(' ')
    const q = target.indexOf('?')
    const path = q < 0 ? target : target.slice(0, q)
    const record: DockerApiRecord = { time: this.now().toISOString(), method, path, conn: this.conn }
    if (q >= 0) record.query = target.slice(q + 1)
    const ua = head.headers.get('user-agent')
    if (ua) record.client = ua
    this.queue.push(record)
    const hijack = head.headers.has('upgrade') || HIJACK_PATH.test(path)
    return { body: bodyOf(head.headers), opaqueAfter: hijack }
  }

  private onResponse(head: Head): { body: BodyMode } {
    const status = Number(head.startLine.split(' ')[1])
    if (status === 100) return { body: { kind: 'none' } }
    const record = this.queue.shift()
    const body = responseBody(status, record?.method, head.headers)
    if (record) {
      record.status = status
      if (
        body.kind === 'opaque' &&
        (status === 101 || /raw-stream|multiplexed-stream/.test(head.headers.get('content-type') ?? ''))
      ) {
        record.upgraded = true
      }
      this.emit(record)
    }
    if (status === 101) this.requests.goOpaque()
    return { body }
  }
}

function responseBody(status: number, method: string | undefined, headers: Map<string, string>): BodyMode {
  if (status === 101) return { kind: 'opaque' }
  if (method === 'HEAD' || status === 204 || status === 304) return { kind: 'none' }
  const body = bodyOf(headers)
  // Without a length or chunking the body runs until the connection closes (docker's raw streams).
  if (body.kind === 'none' && !headers.has('content-length')) return { kind: 'opaque' }
  return body
}
