import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCriLine, parsePodDir, podLogsCollector } from '../../../../src/lab/kind/pod-logs.js'
import type { TelemetryLoss } from '../../../../src/lab/provider.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'

describe('CRI log records', () => {
  it('parses the kubelet format and refuses anything else without throwing', () => {
    expect(parseCriLine('2026-11-30T02:00:00.123456789Z stdout F hello world')).toEqual({
      time: '2026-11-30T02:00:00.123456789Z',
      stream: 'stdout',
      partial: false,
      text: 'hello world',
    })
    expect(parseCriLine('2026-11-30T02:00:00Z stderr P part')?.partial).toBe(true)
    for (const bad of [
      '',
      'x',
      'not-a-time stdout F x',
      '2026-11-30T02:00:00Z stdin F x',
      '2026-11-30T02:00:00Z stdout Q x',
    ])
      expect(parseCriLine(bad)).toBeUndefined()
    expect(parsePodDir('purple-app_web-0_1234-abcd')).toEqual({
      namespace: 'purple-app',
      pod: 'web-0',
      uid: '1234-abcd',
    })
    expect(parsePodDir('no-uid')).toBeUndefined()
  })
})

describe('podLogsCollector', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('tails new lines of every pod outside kube-system, joins partial records, and reports bad ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pk-podlogs-'))
    dirs.push(root)
    const file = join(root, 'purple-app_web-0_u1', 'app', '0.log')
    mkdirSync(join(root, 'purple-app_web-0_u1', 'app'), { recursive: true })
    writeFileSync(file, '2026-11-30T02:00:00Z stdout F before the collector started\n')
    mkdirSync(join(root, 'kube-system_coredns-x_u2', 'coredns'), { recursive: true })
    const events: TelemetryEvent[] = []
    const losses: TelemetryLoss[] = []
    const c = podLogsCollector(root, { pollMs: 20 })
    await c.start(
      (e) => events.push(e),
      (l) => losses.push(l),
    )
    appendFileSync(
      file,
      '2026-11-30T02:00:01Z stdout P AWS_SECRET_ACCESS_\n2026-11-30T02:00:01Z stdout F KEY=canary\n',
    )
    appendFileSync(file, 'garbage line\n')
    writeFileSync(
      join(root, 'kube-system_coredns-x_u2', 'coredns', '0.log'),
      '2026-11-30T02:00:02Z stdout F dns\n',
    )
    await expect.poll(() => events.length, { timeout: 2000 }).toBe(1)
    await expect.poll(() => losses.length, { timeout: 2000 }).toBe(1)
    await c.stop()
    expect(events[0]?.source).toBe('container-logs')
    expect(events[0]?.raw).toMatchObject({
      line: 'AWS_SECRET_ACCESS_KEY=canary',
      pod: 'web-0',
      namespace: 'purple-app',
      container: 'app',
      stream: 'stdout',
    })
    expect(losses[0]).toMatchObject({ source: 'container-logs', kind: 'unreadable', count: 1 })
  })
})
