import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PurpleError } from '../../../src/errors.js'
import { startImds } from '../../../src/lab/decoys/imds.js'
import { SOURCES, type TelemetryEvent } from '../../../src/telemetry/event.js'
import { detectSource } from '../../../src/telemetry/normalize.js'
import { sourceDescriptor, sourceDescriptors, sourcesForLogsource } from '../../../src/telemetry/registry.js'
import { defineSource } from '../../../src/telemetry/source.js'
import { awsRecord, decoyAccessCollector } from '../../../src/telemetry/sources/decoy-access/collector.js'

const MOTO = 'test/fixtures/telemetry/decoy-access/moto-recording.jsonl'

describe('telemetry source registry', () => {
  it('has one complete descriptor per source name, in SOURCES order', () => {
    expect(sourceDescriptors().map((d) => d.name)).toEqual([...SOURCES])
    for (const d of sourceDescriptors()) {
      expect(typeof d.attribute).toBe('function')
      expect(d.logsources.length).toBeGreaterThan(0)
    }
  })

  it('refuses a source without an attribution rule', () => {
    const { attribute: _, ...incomplete } = sourceDescriptor('container-logs')
    const e = (() => {
      try {
        defineSource(incomplete as never)
      } catch (x) {
        return x
      }
    })()
    expect(e).toBeInstanceOf(PurpleError)
    expect((e as Error).message).toBe(
      'telemetry source container-logs cannot be registered: it lacks attribute',
    )
  })

  it('maps Sigma logsources from the descriptors', () => {
    expect(sourcesForLogsource({ product: 'purplekind', service: 'decoy-access' })).toEqual(['decoy-access'])
    expect(sourcesForLogsource({ product: 'docker', category: 'container_logs' })).toEqual(['container-logs'])
    expect(sourcesForLogsource({ product: 'windows' })).toEqual([])
    expect(sourcesForLogsource({ product: 'docker', service: 'nope' })).toBeUndefined()
  })

  it('recognises a decoy-access file (--source auto)', () => {
    expect(detectSource('{"decoy":"aws","method":"POST","path":"/","time":"2026-11-30T10:00:00Z"}')).toBe(
      'decoy-access',
    )
  })
})

describe('decoy-access from moto’s recorder', () => {
  const isCanary = (id?: string) => id === 'AKIAEXAMPLECANARY01'

  it('keeps the caller’s key id, service and action — never the session token or signature', async () => {
    const lines = (await readFile(MOTO, 'utf8')).trim().split('\n')
    const records = lines.map((l) => awsRecord(l, '2026-11-30T02:13:45.000Z', isCanary))
    expect(records).toEqual([
      expect.objectContaining({
        decoy: 'aws',
        method: 'POST',
        path: '/',
        service: 'iam',
        action: 'ListAccessKeys',
        credential: 'AKIAEXAMPLECANARY01',
        canary: true,
      }),
      expect.objectContaining({ service: 'sts', action: 'GetCallerIdentity', canary: true }),
    ])
    const text = JSON.stringify(records)
    expect(text).not.toContain('sessiontokensecret')
    expect(text).not.toContain('Signature')
    expect(awsRecord('not json', 'x', isCanary)).toBeUndefined()
  })

  it('collects the IMDS decoy’s requests and moto’s appended lines, and reports unreadable lines', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-decoy-access-'))
    const recording = path.join(dir, 'moto.requests.jsonl')
    const imds = await startImds({
      host: '127.0.0.1',
      port: 0,
      canary: { accessKeyId: 'ASIA1', secretAccessKey: 's', token: 't' },
      role: 'node-role',
    })
    const errors: string[] = []
    const events: TelemetryEvent[] = []
    const collector = decoyAccessCollector({
      imds,
      awsRecording: recording,
      canaryIds: ['AKIAEXAMPLECANARY01'],
      pollMs: 20,
    })
    try {
      await collector.start(
        (e) => events.push(e),
        (loss) => errors.push(`${loss.source} ${loss.kind}: ${loss.reason}`),
      )
      await fetch(`${imds.url}/latest/meta-data/iam/security-credentials/`)
      const [first, second] = (await readFile(MOTO, 'utf8')).trim().split('\n')
      await appendFile(recording, `${first}\n{"broken"\n`)
      await new Promise((r) => setTimeout(r, 100))
      await appendFile(recording, `${second}\n`) // read at stop at the latest
    } finally {
      await collector.stop()
      await imds.stop()
      await rm(dir, { recursive: true, force: true })
    }
    expect(events.map((e) => [e.raw.decoy, e.raw.path, e.raw.action ?? '', e.raw.canary ?? ''])).toEqual([
      ['imds', '/latest/meta-data/iam/security-credentials/', '', ''],
      ['aws', '/', 'ListAccessKeys', true],
      ['aws', '/', 'GetCallerIdentity', true],
    ])
    expect(errors).toEqual(['decoy-access unreadable: a moto recorder line is not a request record'])
  })

  it('leaves out what moto recorded before the run started (the harness planting its canaries)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-decoy-access-'))
    const recording = path.join(dir, 'moto.requests.jsonl')
    const [first, second] = (await readFile(MOTO, 'utf8')).trim().split('\n')
    await writeFile(recording, `${first}\n`)
    const events: TelemetryEvent[] = []
    const collector = decoyAccessCollector({ awsRecording: recording, canaryIds: [], pollMs: 20 })
    try {
      await collector.start((e) => events.push(e))
      await appendFile(recording, `${second}\n`)
    } finally {
      await collector.stop()
      await rm(dir, { recursive: true, force: true })
    }
    expect(events.map((e) => e.raw.action)).toEqual(['GetCallerIdentity'])
  })
})
