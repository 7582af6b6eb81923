// The node's CRI log files as the `container-logs` source: the kubelet's /var/log/pods is bind-mounted
// from the lab directory (config.ts), so the harness tails it on the host — no `docker exec`, no kubelet
// API, nothing that would itself show up in the telemetry. Layout and line format are the kubelet's:
//   <namespace>_<pod>_<uid>/<container>/<restart>.log
//   <RFC 3339 time> <stdout|stderr> <P|F> <text>      (P: a partial line continued by the next record)
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { TelemetryEvent } from '../../telemetry/event.js'
import { normalizeContainerLog } from '../../telemetry/sources/container-logs.js'
import type { LossReporter, TelemetryCollector } from '../provider.js'

export interface CriLine {
  time: string
  stream: 'stdout' | 'stderr'
  partial: boolean
  text: string
}

/** Parses one CRI log record; undefined when it is not one (never throws on hostile input). */
export function parseCriLine(line: string): CriLine | undefined {
  const a = line.indexOf(' ')
  const b = line.indexOf(' ', a + 1)
  const c = line.indexOf(' ', b + 1)
  if (a < 1 || b < 0 || c < 0) return undefined
  const stream = line.slice(a + 1, b)
  const tag = line.slice(b + 1, c)
  if ((stream !== 'stdout' && stream !== 'stderr') || (tag !== 'P' && tag !== 'F')) return undefined
  const time = line.slice(0, a)
  if (Number.isNaN(Date.parse(time))) return undefined
  return { time, stream, partial: tag === 'P', text: line.slice(c + 1) }
}

/** `<namespace>_<pod>_<uid>` (names cannot hold `_`, so the split is unambiguous). */
export function parsePodDir(name: string): { namespace: string; pod: string; uid: string } | undefined {
  const parts = name.split('_')
  if (parts.length !== 3 || parts.some((p) => !p)) return undefined
  const [namespace, pod, uid] = parts as [string, string, string]
  return { namespace, pod, uid }
}

const MAX_LINE = 64 * 1024

interface Tail {
  offset: number
  rest: string
  partial: string
}

/**
 * Tails every log file under `dir` (polling: inotify does not see writes made in another mount
 * namespace on every kernel). Only namespaces accepted by `namespaces` are read, and a file first seen
 * after start is read from its beginning, one seen at start from its end.
 */
export function podLogsCollector(
  dir: string,
  options: { pollMs?: number; namespaces?: (ns: string) => boolean } = {},
): TelemetryCollector {
  let lost: LossReporter | undefined
  const tails = new Map<string, Tail>()
  let timer: NodeJS.Timeout | undefined
  const accept = options.namespaces ?? ((ns: string) => ns !== 'kube-system')

  const scan = (sink: (e: TelemetryEvent) => void, initial: boolean) => {
    let pods: string[]
    try {
      pods = readdirSync(dir)
    } catch {
      return
    }
    for (const podDir of pods) {
      const pod = parsePodDir(podDir)
      if (!pod || !accept(pod.namespace)) continue
      let containers: string[] = []
      try {
        containers = readdirSync(join(dir, podDir))
      } catch {
        continue
      }
      for (const container of containers) {
        let files: string[] = []
        try {
          files = readdirSync(join(dir, podDir, container)).filter((f) => /^\d+\.log$/.test(f))
        } catch {
          continue
        }
        for (const file of files) {
          const path = join(dir, podDir, container, file)
          let tail = tails.get(path)
          if (!tail) {
            tail = { offset: initial ? safeSize(path) : 0, rest: '', partial: '' }
            tails.set(path, tail)
          }
          readNew(path, tail, (line) => {
            const rec = parseCriLine(line)
            if (!rec) {
              lost?.({
                source: 'container-logs',
                kind: 'unreadable',
                count: 1,
                reason: 'not a CRI log record',
              })
              return
            }
            if (rec.partial) {
              tail.partial = (tail.partial + rec.text).slice(0, MAX_LINE)
              return
            }
            const text = tail.partial + rec.text
            tail.partial = ''
            try {
              for (const e of normalizeContainerLog({
                time: rec.time,
                container,
                pod: pod.pod,
                namespace: pod.namespace,
                podUid: pod.uid,
                stream: rec.stream,
                line: text,
                runtime: 'cri',
              }))
                sink(e)
            } catch (err) {
              const reason = err instanceof Error ? err.message.slice(0, 200) : 'invalid record'
              lost?.({ source: 'container-logs', kind: 'unreadable', count: 1, reason })
            }
          })
        }
      }
    }
  }

  return {
    source: 'container-logs',
    async start(sink, reportLoss) {
      lost = reportLoss
      if (timer) return
      scan(sink, true)
      timer = setInterval(() => scan(sink, false), options.pollMs ?? 200)
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = undefined
      tails.clear()
    },
  }
}

function safeSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

function readNew(path: string, tail: Tail, onLine: (line: string) => void): void {
  const size = safeSize(path)
  if (size < tail.offset) tail.offset = 0 // rotated or truncated
  if (size === tail.offset) return
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return
  }
  try {
    const buf = Buffer.alloc(Math.min(size - tail.offset, 4 * 1024 * 1024))
    const n = readSync(fd, buf, 0, buf.length, tail.offset)
    tail.offset += n
    const text = tail.rest + buf.subarray(0, n).toString('utf8')
    const lines = text.split('\n')
    tail.rest = (lines.pop() ?? '').slice(0, MAX_LINE)
    for (const line of lines) onLine(line)
  } finally {
    closeSync(fd)
  }
}
