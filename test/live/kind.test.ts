// The kind provider end to end: up (network, services, kind create, images, IMDS redirect), the context
// guard, audit events arriving through the webhook, then down. Needs kind on PATH, a Docker Engine and a
// kindest/node image already present (purplekind never pulls); otherwise it is skipped with the reason.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { afterAll, describe, expect, it } from 'vitest'
import { kindProvider } from '../../src/lab/kind/index.js'
import type { Lab } from '../../src/lab/provider.js'
import { assertSafeContext } from '../../src/lab/safety.js'
import type { TelemetryEvent } from '../../src/telemetry/event.js'

const availability = await kindProvider.available()
if (!availability.ok) console.log(`kind live test skipped: ${availability.reason}`)
const name = 'purplekind-live'
const log = (line: string) => console.log(`  ${line}`)

describe.skipIf(!availability.ok)('kind provider (live)', () => {
  let lab: Lab | undefined

  afterAll(async () => {
    await kindProvider.down({ name, log })
    expect((await kindProvider.status({ name })).running).toBe(false)
  })

  it('brings up an audited kind lab that passes the context guard', async () => {
    lab = await kindProvider.up({ name, log })
    expect(lab.context).toBe(`kind-${name}`)
    expect(lab.capabilities).toEqual({ realPods: true, networkPolicy: true, docker: true })
    expect(assertSafeContext({ kubeconfig: lab.kubeconfig, context: lab.context }).reason).toBe('lab')
    expect((await kindProvider.status({ name })).running).toBe(true)
  })

  it('delivers the audit event of a secret read through the webhook', async () => {
    if (!lab) throw new Error('lab did not come up')
    const events: TelemetryEvent[] = []
    const collector = lab.collectors.find((c) => c.source === 'k8s-audit')!
    await collector.start((e) => events.push(e))
    const kc = new KubeConfig()
    kc.loadFromFile(lab.kubeconfig)
    kc.setCurrentContext(lab.context)
    await kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: 'default' })
    await expect
      .poll(
        () =>
          events.some(
            (e) =>
              e.raw.verb === 'list' && (e.raw.objectRef as { resource?: string })?.resource === 'secrets',
          ),
        {
          timeout: 15_000,
        },
      )
      .toBe(true)
    await collector.stop()
  })
})
