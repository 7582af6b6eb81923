// The local lab routes 169.254.169.254 in its sandbox to a loopback port where the run serves IMDS
// (compose.ts); what that IMDS serves must reach the decoy-access source, tied to the step that asked.
// Real pieces: attachRunServices, the IMDS decoy on a real socket, the decoy-access collector and
// correlate(). Only the lab is a stand-in (a plain object shaped like the local lab's, no processes);
// moto is kept out (PURPLEKIND_VENV points nowhere) because only the IMDS path is under test here.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachRunServices, type RunServices } from '../../../src/lab/compose.js'
import { type ImdsDecoy, startImds } from '../../../src/lab/decoys/imds.js'
import { freePort } from '../../../src/lab/decoys/process.js'
import type { Lab } from '../../../src/lab/provider.js'
import { correlate } from '../../../src/run/correlate.js'
import { getField, type TelemetryEvent } from '../../../src/telemetry/event.js'

const ENV = ['PURPLEKIND_HOME', 'PURPLEKIND_VENV'] as const

describe('local lab: the IMDS the run serves feeds decoy-access', () => {
  const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]))
  let home: string
  let services: RunServices
  let hostUrl: string

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pk-compose-'))
    process.env.PURPLEKIND_HOME = home
    process.env.PURPLEKIND_VENV = join(home, 'no-venv')
    hostUrl = `http://127.0.0.1:${await freePort()}`
    // What the local provider hands over: IMDS at the sandbox's metadata address, bridged to hostUrl,
    // served by the run (no serveImdsCredentials hook: that is kind's long-lived IMDS).
    const localLab: Lab = {
      provider: 'local',
      name: 'compose-test',
      kubeconfig: join(home, 'kubeconfig'),
      context: 'purplekind-compose-test',
      capabilities: { realPods: false, networkPolicy: false, docker: false },
      collectors: [],
      decoys: { imds: { url: 'http://169.254.169.254', hostUrl, role: 'placeholder' } },
      manifest: {},
    }
    services = await attachRunServices(localLab, [], 'compose-imds', () => undefined)
  }, 60_000)

  afterAll(async () => {
    await services?.stop()
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
    await rm(home, { recursive: true, force: true })
  })

  it('records a credential fetch from the lab IMDS as decoy-access events of the step that made it', async () => {
    expect(services.labImds?.url).toBe(hostUrl)
    const collector = services.lab.collectors.find((c) => c.source === 'decoy-access')
    expect(collector, 'decoy-access collector').toBeDefined()
    const events: TelemetryEvent[] = []
    await collector?.start((e) => events.push(e))
    const role = services.lab.decoys.imds?.role
    expect(role).toBe(services.canaries.awsRoleName)
    // The step: `kubectl exec -n purple-app web-0 -- curl …/security-credentials/<role>`, as the sandbox
    // would send it through the bridge.
    const sentAt = Date.now()
    const base = `${hostUrl}/latest/meta-data/iam/security-credentials/`
    expect(await (await fetch(base)).text()).toBe(role)
    const creds = (await (await fetch(`${base}${role}`)).json()) as { AccessKeyId: string }
    expect(creds.AccessKeyId).toBe(services.canaries.awsAccessKeyId)
    const endedAt = Date.now()
    await collector?.stop()

    const imds = events.filter((e) => e.source === 'decoy-access' && getField(e, 'decoy') === 'imds')
    expect(imds.map((e) => getField(e, 'path'))).toEqual([
      '/latest/meta-data/iam/security-credentials/',
      `/latest/meta-data/iam/security-credentials/${role}`,
    ])
    expect(imds.map((e) => getField(e, 'status'))).toEqual([200, 200])

    const step = {
      tool: 'kubectl',
      identity: 'mallory@example.com',
      sentAt,
      endedAt,
      auditIDs: [],
      targets: ['purple-app/web-0'],
    }
    const tied = correlate(step, events, new Set())
    expect(tied.method).toBe('window')
    expect(tied.events.filter((e) => e.source === 'decoy-access')).toHaveLength(2)
    // A step long before the fetch gets none of it.
    const earlier = { ...step, sentAt: sentAt - 60_000, endedAt: sentAt - 50_000 }
    expect(correlate(earlier, events, new Set()).events).toEqual([])
  })
})

// kind keeps one IMDS on the Docker network gateway for the lab's lifetime and hands each run its role
// through serveImdsCredentials; the run's decoy-access must see what that IMDS serves from then on, and
// nothing it served before (an earlier run's fetches). The lab is a stand-in; its IMDS is the real decoy.
describe('kind lab: the lab-lifetime IMDS feeds decoy-access with this run’s requests only', () => {
  const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]))
  let home: string
  let services: RunServices
  let gateway: ImdsDecoy

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pk-compose-kind-'))
    process.env.PURPLEKIND_HOME = home
    process.env.PURPLEKIND_VENV = join(home, 'no-venv')
    gateway = await startImds({
      host: '127.0.0.1',
      port: 0,
      role: 'lab-start-role',
      canary: { accessKeyId: 'ASIAEARLIER000000000', secretAccessKey: 'x', token: 'y' },
    })
    // An earlier run's fetch, before this run takes the IMDS over.
    await (await fetch(`${gateway.url}/latest/meta-data/iam/security-credentials/`)).text()
    const kindLab: Lab = {
      provider: 'kind',
      name: 'compose-kind-test',
      kubeconfig: join(home, 'kubeconfig'),
      context: 'kind-compose-kind-test',
      capabilities: { realPods: true, networkPolicy: true, docker: false },
      collectors: [],
      decoys: { imds: { url: 'http://169.254.169.254', hostUrl: gateway.url, role: gateway.role } },
      manifest: {},
      serveImdsCredentials: (creds, role) => {
        gateway.serve(creds, role)
        const from = gateway.events().length
        return { events: () => gateway.events().slice(from) }
      },
    }
    services = await attachRunServices(kindLab, [], 'compose-kind', () => undefined)
  }, 60_000)

  afterAll(async () => {
    await services?.stop()
    await gateway?.stop()
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
    await rm(home, { recursive: true, force: true })
  })

  it('reports the run’s credential fetch from the gateway IMDS, not the earlier run’s', async () => {
    expect(services.labImds, 'the run starts no IMDS of its own on kind').toBeUndefined()
    const collector = services.lab.collectors.find((c) => c.source === 'decoy-access')
    const events: TelemetryEvent[] = []
    await collector?.start((e) => events.push(e))
    const role = services.canaries.awsRoleName
    expect(services.lab.decoys.imds?.role).toBe(role)
    const creds = (await (
      await fetch(`${gateway.url}/latest/meta-data/iam/security-credentials/${role}`)
    ).json()) as { AccessKeyId: string }
    expect(creds.AccessKeyId).toBe(services.canaries.awsAccessKeyId)
    await collector?.stop()
    const imds = events.filter((e) => getField(e, 'decoy') === 'imds')
    expect(imds.map((e) => getField(e, 'path'))).toEqual([
      `/latest/meta-data/iam/security-credentials/${role}`,
    ])
  })
})
