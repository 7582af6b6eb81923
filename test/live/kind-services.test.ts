// The host side of the kind lab, for real, without kind: a labelled docker network, the audit webhook
// relay + receiver and the IMDS decoy on its gateway, and a container standing in for a kind node. From
// inside it we POST an audit EventList the way the apiserver does. (The IMDS namespace and egress guard
// are proven from real pods in kind.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Docker from 'dockerode'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureImages, TOOLBOX_IMAGE } from '../../src/lab/docker/images.js'
import { ensureLabNetwork, type LabNetwork, removeLabNetwork } from '../../src/lab/kind/network.js'
import { type KindLabServices, startKindServices } from '../../src/lab/kind/services.js'
import { MANAGED_LABEL } from '../../src/lab/provider.js'
import type { TelemetryEvent } from '../../src/telemetry/event.js'

const docker = new Docker()
const name = `purplekind-svc-${process.pid}`
const skipReason = await whyNot()
if (skipReason) console.log(`kind-services live test skipped: ${skipReason}`)

async function whyNot(): Promise<string | undefined> {
  try {
    await docker.version()
  } catch {
    return 'no Docker Engine answers on /var/run/docker.sock'
  }
  for (const tool of ['openssl', 'nsenter', 'iptables']) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0)
      return `${tool} not on PATH`
  }
  return undefined
}

describe.skipIf(skipReason !== undefined)('kind lab services on a docker network', () => {
  let dir: string
  let network: LabNetwork
  let services: KindLabServices
  let node: Docker.Container

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'purplekind-kind-svc-'))
    network = await ensureLabNetwork(docker, name)
    services = await startKindServices({ host: network.gateway, stateDir: dir, log: () => {} })
    await ensureImages(docker, { log: () => {} })
    node = await docker.createContainer({
      name: `${name}-node`,
      Image: TOOLBOX_IMAGE,
      Labels: { [MANAGED_LABEL]: 'true' },
      HostConfig: { NetworkMode: name },
    })
    await node.start()
  })

  afterAll(async () => {
    await node?.remove({ force: true }).catch(() => {})
    await services?.stop()
    if (network) await removeLabNetwork(docker, name)
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function inNode(cmd: string[]): Promise<{ exitCode: number; stdout: string }> {
    const pid = (await node.inspect()).State.Pid
    // nsenter -n: the container's network, the host's binaries (the toolbox image has no iptables).
    const r = await execa('nsenter', ['-t', String(pid), '-n', ...cmd], { reject: false })
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout }
  }

  it('network and services sit on the lab gateway', () => {
    expect(network.subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/)
    expect(services.audit.url).toMatch(
      new RegExp(`^https://${network.gateway.replaceAll('.', '\\.')}:\\d+/audit$`),
    )
    expect(services.imds.host).toBe(network.gateway)
  })

  it('delivers an EventList POSTed over TLS with the bearer token (as the apiserver does) to the collector', async () => {
    const received: TelemetryEvent[] = []
    await services.audit.collector.start((e) => received.push(e))
    const caFile = join(dir, 'ca-copy.crt')
    writeFileSync(caFile, services.audit.caPem)
    const body = JSON.stringify({
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      metadata: {},
      items: [
        {
          level: 'Metadata',
          auditID: 'kind-svc-probe-1',
          stage: 'ResponseComplete',
          verb: 'get',
          requestURI: '/api/v1/namespaces/purplekind-preflight/secrets/x',
          user: { username: 'tester' },
          sourceIPs: ['172.19.0.2'],
          userAgent: 'kubectl/v1.36.3',
          objectRef: { resource: 'secrets', namespace: 'purplekind-preflight', name: 'x', apiVersion: 'v1' },
          responseStatus: { code: 404 },
          requestReceivedTimestamp: new Date().toISOString(),
          stageTimestamp: new Date().toISOString(),
        },
      ],
    })
    // Run the host's curl inside the node's network namespace: the path is node → gateway relay → receiver,
    // and TLS verification uses the lab CA against the gateway IP in the serving certificate.
    const r = await inNode([
      'curl',
      '-sS',
      '--fail',
      '--cacert',
      caFile,
      '-H',
      `Authorization: Bearer ${services.audit.token}`,
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      body,
      services.audit.url,
    ])
    expect(r.exitCode).toBe(0)
    await expect.poll(() => received.map((e) => e.auditID)).toContain('kind-svc-probe-1')
    // Without the token the receiver refuses.
    const denied = await inNode([
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--cacert',
      caFile,
      '--data-binary',
      body,
      services.audit.url,
    ])
    expect(denied.stdout).toBe('401')
    await services.audit.collector.stop()
  })
})
