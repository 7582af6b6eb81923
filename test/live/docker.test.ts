// Live: dockerd (started if needed), images built without a registry, the victim leaking canaries to
// its logs, and the three Docker telemetry sources — engine events, API calls seen by the logging proxy
// (the real docker CLI goes through it), and container logs. Secrets are checked by fingerprint only.
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import Docker from 'dockerode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fingerprint, makeCanaries, victimEnv } from '../../src/lab/decoys/canaries.js'
import {
  containerLogsCollector,
  dockerApiCollector,
  dockerEventsCollector,
} from '../../src/lab/docker/collectors.js'
import { type DockerEngine, ensureDockerd } from '../../src/lab/docker/engine.js'
import {
  createLabContainer,
  ensureImages,
  removeRunContainers,
  TOOLBOX_IMAGE,
  VICTIM_IMAGE,
} from '../../src/lab/docker/images.js'
import { type DockerApiProxy, startDockerApiProxy } from '../../src/lab/docker/proxy.js'
import type { TelemetryCollector } from '../../src/lab/provider.js'
import { getField, type TelemetryEvent } from '../../src/telemetry/event.js'

const run = promisify(execFile)
const log = (line: string) => console.log(`[docker] ${line}`)
const runId = `t${Date.now()}`
const victim = `pk-victim-${runId}`
const toolbox = `pk-toolbox-${runId}`
const canaries = makeCanaries(runId)
const events: TelemetryEvent[] = []
let engine: DockerEngine
let proxy: DockerApiProxy
let viaProxy: Docker
let collectors: TelemetryCollector[] = []

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

beforeAll(async () => {
  engine = await ensureDockerd({ log })
  const dir = mkdtempSync(join(tmpdir(), 'pk-proxy-'))
  proxy = await startDockerApiProxy({
    socketPath: join(dir, 'docker.sock'),
    upstream: engine.socketPath,
    log,
  })
  viaProxy = new Docker({ socketPath: proxy.socketPath })
  collectors = [
    dockerEventsCollector(engine.docker),
    dockerApiCollector(proxy, { docker: engine.docker }),
    containerLogsCollector(engine.docker, { runId }),
  ]
  for (const c of collectors) await c.start((e) => events.push(e))
})

afterAll(async () => {
  for (const c of collectors) await c.stop()
  await proxy?.stop()
})

describe('docker lab (live)', () => {
  it('has a working engine', () => {
    log(`engine ${engine.version}, started by us: ${engine.startedByUs}, networking: ${engine.networking}`)
    expect(engine.version).toMatch(/^\d+\.\d+/)
  })

  it('builds the lab images locally, without any pull', async () => {
    const result = await ensureImages(engine.docker, { log })
    expect(Object.keys(result.images).sort()).toEqual([
      'purplekind/quiet:1',
      'purplekind/toolbox:1',
      'purplekind/victim:1',
    ])
    const victimImage = await engine.docker.getImage(VICTIM_IMAGE).inspect()
    expect(victimImage.Config.Labels?.['purplekind.io/managed']).toBe('true')
    // An imported image has exactly one layer and no registry digest: it was never pulled.
    expect(victimImage.RepoDigests).toEqual([])
    expect(victimImage.RootFS.Layers).toHaveLength(1)
    // A second call finds identical builds and does nothing.
    const again = await ensureImages(engine.docker, { log })
    expect(Object.values(again.images).every((s) => s === 'present')).toBe(true)
  })

  it('victim leaks the canaries into its logs, seen by the container-logs collector', async () => {
    await createLabContainer(engine.docker, {
      name: victim,
      image: VICTIM_IMAGE,
      env: victimEnv(canaries),
      runId,
    })
    const secret = fingerprint(canaries.awsSecretAccessKey)
    const leak = await until('victim log line with the AWS secret', () =>
      events.find(
        (e) =>
          e.source === 'container-logs' && tokens(String(e.raw.line)).some((t) => fingerprint(t) === secret),
      ),
    )
    expect(leak.raw).toMatchObject({ container: victim, stream: 'stdout', runId })
    const db = fingerprint(canaries.dbPassword)
    expect(
      events.some(
        (e) => e.source === 'container-logs' && tokens(String(e.raw.line)).some((t) => fingerprint(t) === db),
      ),
    ).toBe(true)
  })

  it('a create shows up in docker-events', async () => {
    const created = await until('create event', () =>
      events.find(
        (e) =>
          e.source === 'docker-events' &&
          getField(e, 'Actor.Attributes.name') === victim &&
          getField(e, 'Action') === 'create',
      ),
    )
    expect(getField(created, 'Actor.Attributes.purplekind.io/run')).toBe(runId)
  })

  it('`docker logs` through the proxy is recorded as a docker-api call (the engine has no event for it)', async () => {
    const { stdout } = await run('docker', ['logs', victim], { env: { ...process.env, ...proxy.env } })
    expect(tokens(stdout).map(fingerprint)).toContain(fingerprint(canaries.awsSecretAccessKey))
    // The CLI inspects by name, then asks for the logs by container ID.
    const id = (await engine.docker.getContainer(victim).inspect()).Id
    const calls = proxy.records().map((r) => `${r.method} ${r.path.replace(/^\/v[\d.]+/, '')} ${r.status}`)
    expect(calls).toContain(`GET /containers/${victim}/json 200`)
    expect(calls).toContain(`GET /containers/${id}/logs 200`)
    const record = proxy.records().find((r) => r.path.endsWith(`/containers/${id}/logs`))
    expect(record?.client).toMatch(/^Docker-Client\//)
    // The collector resolves the ID back to the name for rules written against names.
    const normalized = await until('normalized docker-api logs event', () =>
      events.find((e) => e.source === 'docker-api' && String(e.raw.path).endsWith(`/containers/${id}/logs`)),
    )
    expect(normalized.sourcetype).toBe('docker:api')
    expect(normalized.raw).toMatchObject({ method: 'GET', status: 200, container: victim, containerId: id })
  })

  it('exec through the proxy still works (hijacked stream) with the real CLI and with dockerode', async () => {
    await createLabContainer(engine.docker, { name: toolbox, image: TOOLBOX_IMAGE, runId })
    const { stdout } = await run('docker', ['exec', toolbox, 'sh', '-c', 'echo hijack-ok; id -u'], {
      env: { ...process.env, ...proxy.env },
    })
    expect(stdout.trim().split('\n')).toEqual(['hijack-ok', '0'])
    const exec = await viaProxy
      .getContainer(toolbox)
      .exec({ Cmd: ['curl', '--version'], AttachStdout: true, AttachStderr: true })
    const stream = await exec.start({ hijack: true, stdin: false })
    const out = new PassThrough()
    const chunks: Buffer[] = []
    out.on('data', (c: Buffer) => chunks.push(c))
    viaProxy.modem.demuxStream(stream, out, out)
    await new Promise((r) => stream.on('end', r))
    expect(Buffer.concat(chunks).toString()).toMatch(/^curl \d/)
    const start = proxy.records().find((r) => r.method === 'POST' && /\/exec\/[0-9a-f]+\/start$/.test(r.path))
    expect(start).toMatchObject({ status: 101, upgraded: true })
    // The exec also reaches the engine's event stream, with the command line in the action.
    await until('exec_start event', () =>
      events.find(
        (e) =>
          e.source === 'docker-events' &&
          String(getField(e, 'Action')).startsWith('exec_start: sh -c echo hijack-ok'),
      ),
    )
  })

  it('keeps parsing keep-alive requests after streamed responses', async () => {
    const before = proxy.records().length
    await viaProxy.listContainers({ filters: { label: [`purplekind.io/run=${runId}`] } })
    await viaProxy.getContainer(victim).inspect()
    const after = proxy
      .records()
      .slice(before)
      .map((r) => `${r.method} ${r.path.replace(/^\/v[\d.]+/, '')} ${r.status}`)
    expect(after).toEqual(['GET /containers/json 200', `GET /containers/${victim}/json 200`])
  })

  it("removeRunContainers removes exactly the run's containers", async () => {
    expect((await removeRunContainers(engine.docker, runId)).sort()).toEqual([toolbox, victim].sort())
    const left = await engine.docker.listContainers({
      all: true,
      filters: { label: [`purplekind.io/run=${runId}`] },
    })
    expect(left).toEqual([])
  })
})

function tokens(text: string): string[] {
  return text.split(/[\s=:@]+/).filter(Boolean)
}
