// Live proof that the real cloud CLIs work inside the local lab's exec sandbox, as for an attacker in a
// compromised pod on a cloud VM: `aws` takes the node role's credentials from the decoy IMDS and calls
// moto, `az` is already logged in as the canary service principal and calls the Azure decoy, both through
// the lab's bridges, and each exec is audited with its command. Nothing else is reachable.
import { existsSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KubeApi } from '../../src/kube/api.js'
import { resolveAssets } from '../../src/lab/assets.js'
import { attachRunServices, type RunServices } from '../../src/lab/compose.js'
import { labDown, labUp, NODE_NAME } from '../../src/lab/local/index.js'
import type { Lab, TelemetryCollector } from '../../src/lab/provider.js'
import { getField, type TelemetryEvent } from '../../src/telemetry/event.js'

const NAME = 'sandbox-cloud'
const NS = 'purple-app'
const POD = 'web-0'
const log = (line: string) => console.log(`[sandbox-cloud] ${line}`)
const isRoot = process.getuid?.() === 0
if (!isRoot) console.log('[sandbox-cloud] SKIPPED: the local lab needs root (it creates a network namespace)')

describe.skipIf(!isRoot)('cloud CLIs inside the local lab exec sandbox (live)', () => {
  let base: Lab
  let services: RunServices
  let receiver: TelemetryCollector
  const events: TelemetryEvent[] = []
  const timings: Record<string, number> = {}

  const admin = () => {
    const pki = `${base.kubeconfig.replace(/kubeconfig$/, '')}pki`
    return KubeApi.fromPem({
      server: base.manifest.apiserver as string,
      caPem: readFileSync(`${pki}/ca.crt`, 'utf8'),
      certPem: readFileSync(`${pki}/admin.crt`, 'utf8'),
      keyPem: readFileSync(`${pki}/admin.key`, 'utf8'),
    })
  }
  const kubectl = (args: string[]) =>
    execa(`${base.binDir}/kubectl`, ['--kubeconfig', base.kubeconfig, ...args], {
      reject: false,
      timeout: 180_000,
    })
  const inPod = (cmd: string[]) => kubectl(['exec', '-n', NS, POD, '--', ...cmd])
  const commands = (e: TelemetryEvent) => {
    const c = getField(e, 'Command')
    return Array.isArray(c) ? c.map(String) : []
  }
  const waitEvent = async (pred: (e: TelemetryEvent) => boolean, ms: number) => {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      const hit = events.find(pred)
      if (hit) return hit
      await sleep(50)
    }
    return undefined
  }

  beforeAll(async () => {
    await resolveAssets({ build: true, log })
    await labDown({ name: NAME, log })
    const t0 = Date.now()
    base = await labUp({ name: NAME, log })
    timings.labUpMs = Date.now() - t0
    const t1 = Date.now()
    services = await attachRunServices(base, [], `sandbox-cloud-${Date.now()}`, log)
    timings.decoysMs = Date.now() - t1
    receiver = services.lab.collectors[0] as TelemetryCollector
    await receiver.start((e) => events.push(e))
    expect((await kubectl(['create', 'namespace', NS])).exitCode).toBe(0)
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: NS },
      spec: { nodeName: NODE_NAME, containers: [{ name: 'web', image: 'purplekind/victim:1' }] },
    }
    // The ServiceAccount admission plugin needs kcm to have created `default` in the new namespace.
    let created = 0
    for (let i = 0; i < 50 && created !== 201; i++) {
      created = (await admin().request('POST', `/api/v1/namespaces/${NS}/pods`, pod)).status
      if (created !== 201) await sleep(200)
    }
    expect(created).toBe(201)
    const ready = await kubectl(['-n', NS, 'wait', '--for=condition=Ready', `pod/${POD}`, '--timeout=30s'])
    expect(ready.exitCode, ready.stderr).toBe(0)
  }, 300_000)

  afterAll(async () => {
    await receiver?.stop()
    await services?.stop()
    if (services) expect(existsSync(base.sandboxDecoys?.azureConfigDir ?? '/nonexistent')).toBe(false)
    await labDown({ name: NAME, log })
    log(`timings: ${JSON.stringify(timings)}`)
  }, 120_000)

  it('serves the decoys on the lab-reserved sandbox ports', () => {
    const sandbox = base.sandboxDecoys
    expect(sandbox, 'lab.sandboxDecoys').toBeDefined()
    expect(services.lab.decoys.aws?.endpoint).toBe(`http://127.0.0.1:${sandbox?.awsPort}`)
    expect(services.lab.decoys.azure?.endpoint).toBe(`https://127.0.0.1:${sandbox?.azurePort}`)
    expect(services.decoys.unavailable).toEqual({})
  })

  it('aws iam list-access-keys in the pod lists the moto-seeded keys with the IMDS role credentials', async () => {
    const aws = services.decoys.aws
    const imds = services.labImds
    if (!aws || !imds) throw new Error('aws decoy or lab IMDS not started')
    const env = await inPod(['env'])
    expect(env.stdout).toContain(`AWS_ENDPOINT_URL=http://127.0.0.1:${base.sandboxDecoys?.awsPort}`)
    expect(env.stdout).not.toMatch(/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)=/m)

    const motoPosts = () =>
      (readFileSync(aws.logFile, 'utf8').match(/"POST \/ HTTP\/1\.1" 200/g) ?? []).length
    const postsBefore = motoPosts()
    const imdsBefore = imds.events().length
    const t = Date.now()
    const r = await inPod(['aws', 'iam', 'list-access-keys'])
    timings.awsExecMs = Date.now() - t
    expect(r.exitCode, r.stderr).toBe(0)
    const listed = (JSON.parse(r.stdout) as { AccessKeyMetadata: { AccessKeyId: string }[] })
      .AccessKeyMetadata
    expect(listed.map((k) => k.AccessKeyId).sort()).toEqual(aws.accessKeys.map((k) => k.accessKeyId).sort())
    // moto saw the call (through the bridge), and the credentials came from the decoy IMDS.
    expect(motoPosts()).toBeGreaterThan(postsBefore)
    const role = services.canaries.awsRoleName
    const asked = imds.events().slice(imdsBefore)
    expect(asked.map((e) => e.path)).toContain(`/latest/meta-data/iam/security-credentials/${role}`)
    const source = await inPod(['aws', 'configure', 'list'])
    expect(source.stdout).toMatch(/access_key\s+\*+\w{4}\s+iam-role/)

    const ev = await waitEvent((e) => commands(e).includes('aws iam list-access-keys'), 5000)
    expect(ev, 'audit event carrying the aws command').toBeDefined()
    expect(String(ev?.raw.requestURI)).toContain(`/namespaces/${NS}/pods/${POD}/exec?`)
  })

  it('az ad sp list in the pod returns the canary service principal, already logged in', async () => {
    const azure = services.decoys.azure
    if (!azure) throw new Error(`azure decoy unavailable: ${services.decoys.unavailable.azure}`)
    const graphBefore = azure.events().filter((e) => e.kind === 'graph').length
    const t = Date.now()
    const r = await inPod(['az', 'ad', 'sp', 'list'])
    timings.azExecMs = Date.now() - t
    expect(r.exitCode, r.stderr).toBe(0)
    const sps = JSON.parse(r.stdout) as { appId: string; displayName: string }[]
    expect(sps.map((s) => s.appId)).toContain(services.canaries.azureClientId)
    const graph = azure.events().filter((e) => e.kind === 'graph')
    expect(graph.length).toBeGreaterThan(graphBefore)
    expect(graph.at(-1)?.status).toBe(200)
    expect(azure.sinkhole.attempts()).toEqual([])

    const ev = await waitEvent((e) => commands(e).includes('az ad sp list'), 5000)
    expect(ev, 'audit event carrying the az command').toBeDefined()
    expect(commands(ev as TelemetryEvent)).toContain('kubectl exec')
  })

  it('keeps the sandbox confined: unprivileged, decoy TLS keys absent, nothing else reachable', async () => {
    expect((await inPod(['id', '-u'])).stdout.trim()).toBe('65534')
    const azureDir = base.sandboxDecoys?.azureConfigDir ?? ''
    const ls = await inPod(['ls', '-A', azureDir])
    expect(ls.stdout.split('\n')).not.toContain('tls')
    expect((await inPod(['sh', '-c', `touch ${azureDir}/probe && rm ${azureDir}/probe`])).exitCode).toBe(0)
    const reach = (url: string) => inPod(['curl', '-sS', '-k', '-m', '3', '-o', '/dev/null', url])
    expect((await reach(`${services.lab.decoys.aws?.endpoint}/moto-api/`)).exitCode).toBe(0)
    // Host loopback ports that are not bridged (etcd), the root-only apiserver bridge, and the outside.
    const etcd = /etcdClient=(\d+)/.exec(String(base.manifest.ports))?.[1]
    for (const url of [
      `http://127.0.0.1:${etcd}/health`,
      `${base.manifest.apiserver}/version`,
      'http://192.0.2.1/',
      'https://login.microsoftonline.com/',
    ]) {
      const r = await reach(url)
      expect(r.exitCode, url).not.toBe(0)
    }
  })

  it('kills what an exec left running, and hands files over as the sandbox user (issue #8 item 1)', async () => {
    const netns = String(base.manifest.execSandbox).match(/netns (\S+)/)?.[1] as string
    const sandboxPids = async () => {
      const pids = (await execa('ip', ['netns', 'pids', netns])).stdout.split(/\s+/).filter(Boolean)
      const uids = await Promise.all(
        pids.map((p) =>
          readFile(`/proc/${p}/status`, 'utf8').then(
            (s) => /^Uid:\s+(\d+)/m.exec(s)?.[1],
            () => undefined,
          ),
        ),
      )
      return pids.filter((_p, i) => uids[i] === '65534')
    }
    // A process an attacker's exec leaves behind, which could swap ~/.azure for a symlink later.
    const bg = await inPod(['sh', '-c', 'nohup sleep 600 >/dev/null 2>&1 &'])
    expect(bg.exitCode, bg.stderr).toBe(0)
    expect((await sandboxPids()).length).toBeGreaterThan(0)
    const lines: string[] = []
    await labUp({ name: NAME, log: (l) => lines.push(l) }) // what the next run does first
    expect(lines.join('\n')).toMatch(/killed \d+ process\(es\) an earlier run left in the exec sandbox/)
    expect(await sandboxPids()).toEqual([])
    // The az profile belongs to the sandbox user, file by file (it was written as that user).
    const azureDir = base.sandboxDecoys?.azureConfigDir ?? ''
    const owners = await execa('find', [azureDir, '-printf', '%U\n'])
    expect(new Set(owners.stdout.split('\n'))).toEqual(new Set(['65534']))
  })
})
