// Collects the decoys' request records as `decoy-access` events. IMDS and Azure keep their records in
// memory (`events()`); moto writes its recorder file (MOTO_RECORDER_FILEPATH, headers included), read
// here incrementally and reduced at once to the caller's key id, service and action — no secret leaves.
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import type { LossReporter, TelemetryCollector } from '../../../lab/provider.js'
import type { TelemetryEvent } from '../../event.js'
import { normalizeDecoyAccess } from './normalize.js'

/** What a decoy keeps of a request it served. */
interface Served {
  time: string
  method: string
  path: string
  status: number
  /** Azure: the token endpoint's client id, and which API the request was for. */
  clientId?: string
  kind?: string
}

export interface DecoyAccessOptions {
  imds?: { events(): readonly Served[] }
  azure?: { events(): readonly Served[] }
  /** moto's recorder file. */
  awsRecording?: string
  /** Credential ids (access key ids, client ids) planted by the run. */
  canaryIds: readonly string[]
  pollMs?: number
}

/** Longest moto recorder line read (a request with a large body); longer ones are skipped and reported. */
const MAX_RECORD_BYTES = 1 << 20

export function decoyAccessCollector(o: DecoyAccessOptions): TelemetryCollector {
  let timer: NodeJS.Timeout | undefined
  const seen = { imds: 0, azure: 0 }
  let offset = 0
  let partial = ''
  const canary = (id: string | undefined) => id !== undefined && o.canaryIds.includes(id)
  let lost: LossReporter | undefined
  const report = (reason: string) => lost?.({ source: 'decoy-access', kind: 'unreadable', count: 1, reason })

  const poll = (sink: (e: TelemetryEvent) => void) => {
    const emit = (record: Record<string, unknown>) => {
      try {
        for (const e of normalizeDecoyAccess(record)) sink(e)
      } catch (e) {
        report((e as Error).message)
      }
    }
    const imds = o.imds?.events() ?? []
    for (; seen.imds < imds.length; seen.imds++) {
      const r = imds[seen.imds]
      if (r) emit({ decoy: 'imds', time: r.time, method: r.method, path: r.path, status: r.status })
    }
    const azure = o.azure?.events() ?? []
    for (; seen.azure < azure.length; seen.azure++) {
      const r = azure[seen.azure]
      if (!r) continue
      emit({
        decoy: 'azure',
        time: r.time,
        method: r.method,
        path: r.path,
        status: r.status,
        ...(r.kind ? { service: r.kind } : {}),
        ...(r.clientId ? { credential: r.clientId, canary: canary(r.clientId) } : {}),
      })
    }
    if (o.awsRecording) {
      const now = new Date().toISOString()
      for (const line of readNewLines()) {
        const record = awsRecord(line, now, canary)
        if (record) emit(record)
        else report('a moto recorder line is not a request record')
      }
    }
  }

  const recordingSize = (): number => {
    if (!o.awsRecording) return 0
    try {
      return statSync(o.awsRecording).size
    } catch {
      return 0
    }
  }

  // Reads what moto appended since the last poll; a line is complete only with its newline.
  const readNewLines = (): string[] => {
    let fd: number
    try {
      fd = openSync(o.awsRecording as string, 'r')
    } catch {
      return [] // nothing recorded yet
    }
    try {
      const buf = Buffer.alloc(64 * 1024)
      const out: string[] = []
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset)
        if (n <= 0) break
        offset += n
        partial += buf.subarray(0, n).toString('utf8')
        const lines = partial.split('\n')
        partial = lines.pop() ?? ''
        out.push(...lines.filter((l) => l.trim()))
        if (partial.length > MAX_RECORD_BYTES) {
          report(`a moto recorder line longer than ${MAX_RECORD_BYTES} bytes was skipped`)
          partial = ''
        }
      }
      return out
    } finally {
      closeSync(fd)
    }
  }

  let sink: ((e: TelemetryEvent) => void) | undefined
  return {
    source: 'decoy-access',
    async start(deliver, onLoss) {
      sink = deliver
      lost = onLoss
      // What moto recorded before the run started is the harness's own set-up (planting the canary
      // users and keys), not anyone's credential use; its lines carry no time, so a poll inside a step's
      // window would otherwise stamp them into that step's evidence.
      offset = recordingSize()
      partial = ''
      timer = setInterval(() => poll(deliver), o.pollMs ?? 250)
      timer.unref()
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = undefined
      // The last requests, served after the previous poll.
      if (sink) poll(sink)
      sink = undefined
    },
  }
}

/**
 * One moto recorder entry `{headers, method, url, body, body_encoded}` → a decoy-access record: the
 * access key id and service from SigV4's `Authorization: AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/
 * <service>/aws4_request`, the action from the query API's `Action=` or JSON APIs' `X-Amz-Target`.
 */
export function awsRecord(
  line: string,
  time: string,
  isCanary: (id: string | undefined) => boolean,
): Record<string, unknown> | undefined {
  let entry: unknown
  try {
    entry = JSON.parse(line)
  } catch {
    return undefined
  }
  if (!entry || typeof entry !== 'object') return undefined
  const { headers, method, url, body, body_encoded } = entry as Record<string, unknown>
  if (typeof method !== 'string' || typeof url !== 'string') return undefined
  const h = headers && typeof headers === 'object' ? (headers as Record<string, unknown>) : {}
  const header = (name: string) => {
    const key = Object.keys(h).find((k) => k.toLowerCase() === name)
    const v = key ? h[key] : undefined
    return typeof v === 'string' ? v : undefined
  }
  const scope = header('authorization')?.match(
    /Credential=([^/,\s]{1,128})\/[^/,\s]*\/[^/,\s]*\/([^/,\s]{1,64})\//,
  )
  const credential = scope?.[1]
  let path = url
  let query = ''
  try {
    const u = new URL(url, 'http://decoy.invalid')
    path = u.pathname
    query = u.search
  } catch {
    // keep the raw url as the path
  }
  const text =
    typeof body === 'string' ? (body_encoded ? Buffer.from(body, 'base64').toString('utf8') : body) : ''
  const action =
    header('x-amz-target')?.split('.').pop() ??
    new URLSearchParams(query).get('Action') ??
    (text.length < 65_536 ? new URLSearchParams(text).get('Action') : null) ??
    undefined
  return {
    decoy: 'aws',
    time,
    method,
    path,
    ...(scope?.[2] ? { service: scope[2] } : {}),
    ...(action ? { action } : {}),
    ...(credential ? { credential, canary: isCanary(credential) } : {}),
    ...(header('user-agent') ? { userAgent: header('user-agent')?.slice(0, 200) } : {}),
  }
}
