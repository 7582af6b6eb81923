import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { AuditLogTailCollector } from '../../../src/lab/audit-receiver.js'
import { dockerEventsCollector } from '../../../src/lab/docker/collectors.js'
import { lossFindings, TelemetryBus } from '../../../src/run/telemetry-bus.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const AUDIT_LINE = JSON.stringify({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  auditID: 'a1',
  stage: 'ResponseComplete',
  verb: 'list',
  requestURI: '/api/v1/secrets',
  user: { username: 'mallory@example.com' },
  objectRef: { resource: 'secrets' },
  responseStatus: { code: 200 },
  requestReceivedTimestamp: '2026-11-30T10:00:00.000000Z',
  stageTimestamp: '2026-11-30T10:00:00.100000Z',
})

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}

describe('telemetry loss is counted and reported', () => {
  it('the audit log tail counts unreadable lines on the bus: "3 k8s-audit line(s) unreadable"', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-loss-'))
    dirs.push(dir)
    const file = path.join(dir, 'audit.log')
    await writeFile(file, '')
    const bus = new TelemetryBus()
    await bus.start([new AuditLogTailCollector({ file, pollMs: 20 })])
    try {
      await appendFile(
        file,
        `${AUDIT_LINE}\n{"kind":"Event","secret":"hunter2"\nnot json at all\n{"kind":"Event"}\n`,
      )
      await until(
        () => bus.losses.size > 0 && bus.events.length > 0 && [...bus.losses.values()][0]!.count >= 3,
      )
    } finally {
      await bus.stop()
    }
    expect(bus.events).toHaveLength(1)
    const [finding] = lossFindings(bus.losses.values())
    expect(finding).toMatchObject({ kind: 'telemetry-loss' })
    expect(finding?.message).toMatch(/^3 k8s-audit line\(s\) unreadable \(first: a line is not valid JSON\)$/)
    expect(finding?.message).not.toContain('hunter2')
  })

  it('a Docker event stream with a broken line never throws from its handler (FAKE engine stream)', async () => {
    // Fake: no Docker Engine runs here. It implements the one call the collector makes (getEvents),
    // handing back a real stream, so the collector's own line handling is what runs.
    const stream = new PassThrough()
    const docker = { getEvents: async () => stream } as unknown as Docker
    const bus = new TelemetryBus()
    await bus.start([dockerEventsCollector(docker)])
    const event = {
      Type: 'container',
      Action: 'start',
      Actor: { ID: 'abc', Attributes: { name: 'purple-victim' } },
      time: 1_795_000_000,
      timeNano: 1_795_000_000_000_000_000,
    }
    stream.write(`{"Type": "container", "Action": \n${JSON.stringify(event)}\n[1,2]\n`)
    stream.write(`${'x'.repeat((1 << 20) + 10)}`)
    stream.write(`\n${JSON.stringify(event)}\n`)
    await until(() => bus.events.length >= 2)
    await bus.stop()
    expect(bus.events).toHaveLength(2)
    expect(lossFindings(bus.losses.values()).map((f) => f.message)).toEqual([
      '3 docker-events line(s) unreadable (first: a line is not valid JSON)',
    ])
  })

  it('replay --strict fails (exit 2) when a detection pipeline misbehaves; without --strict it is a finding', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-strict-'))
    dirs.push(dir)
    const program = JSON.stringify([process.execPath, '-e', "process.stdin.resume(); console.log('garbage')"])
    const args = [
      'dist/cli/main.js',
      '--json',
      'replay',
      'test/fixtures/recordings/t1552.007-local',
      'scenarios/t1552.007',
      '--pipeline',
      'builtin',
      '--pipeline',
      `command=${program}`,
      '--reports',
      dir,
    ]
    const loose = await execa('node', args, { reject: false })
    expect(loose.exitCode, loose.stderr).toBe(0)
    const strict = await execa('node', [...args, '--strict'], { reject: false })
    expect(strict.exitCode).toBe(2)
    expect(strict.stderr).toMatch(/--strict: pipeline command: 1 output line\(s\) were not alerts/)
  }, 60_000)
})
