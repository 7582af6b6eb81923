// The kind provider end to end, on purplekind's locally built node image: up (network, services, kind
// create, NetworkPolicy enforcer, IMDS namespace and egress guard), what a real node gives (containerd
// runtime, CoreDNS, kube-router, a real pod of the workload image reaching the decoys and nothing else),
// audit through the webhook, CRI logs through the bind mount, then down — and the host exactly as before.
// Skipped, with the reason printed, where kind cannot run (no Docker, no node image: scripts/setup.sh
// builds one wherever Docker works, so in CI this runs).
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import Docker from 'dockerode'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kindClusterName, kindProvider } from '../../src/lab/kind/index.js'
import { inspectNetwork } from '../../src/lab/kind/network.js'
import type { Lab } from '../../src/lab/provider.js'
import { assertSafeContext } from '../../src/lab/safety.js'
import type { TelemetryEvent } from '../../src/telemetry/event.js'

const availability = await kindProvider.available()
if (!availability.ok) console.log(`kind live test skipped: ${availability.reason}`)
const name = 'purplekind-live'
const log = (line: string) => console.log(`  ${line}`)

const SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
  'net/ipv4/ip_forward',
]

/** What a lab must leave as it found: global sysctls, netfilter rules, mounts. */
async function hostState(): Promise<Record<string, string[]>> {
  const rules = async (cmd: string) =>
    (await execa(cmd, [], { reject: false })).stdout
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[counters]'))
      .sort()
  return {
    sysctls: SYSCTLS.map((s) => `${s}=${readFileSync(`/proc/sys/${s}`, 'utf8').trim()}`),
    iptables: await rules('iptables-save'),
    ip6tables: await rules('ip6tables-save'),
    mounts: readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .filter((l) => l.includes('purplekind') || l.includes('kind'))
      .sort(),
  }
}

describe.skipIf(!availability.ok)('kind lab on a locally built node image (live)', () => {
  let lab: Lab
  let before: Record<string, string[]>
  const kubectl = (...args: string[]) =>
    execa(lab.binDir ? `${lab.binDir}/kubectl` : 'kubectl', [
      `--kubeconfig=${lab.kubeconfig}`,
      `--context=${lab.context}`,
      ...args,
    ])

  beforeAll(async () => {
    before = await hostState()
    lab = await kindProvider.up({ name, log })
  })

  afterAll(async () => {
    await kindProvider.down({ name, log })
    expect((await kindProvider.status({ name })).running).toBe(false)
    // The host-state test: nothing the lab changed outlives it.
    const after = await hostState()
    expect(after.sysctls).toEqual(before.sysctls)
    expect(after.iptables).toEqual(before.iptables)
    expect(after.ip6tables).toEqual(before.ip6tables)
    expect(after.mounts).toEqual(before.mounts)
    expect(await inspectNetwork(new Docker(), kindClusterName(name))).toBeUndefined()
    const left = await execa('docker', ['ps', '-a', '--filter', `name=${kindClusterName(name)}`, '-q'])
    expect(left.stdout).toBe('')
  })

  it('is a kind cluster whose node is Ready on containerd, with CoreDNS and the policy enforcer running', async () => {
    expect(lab.provider).toBe('kind')
    expect(lab.context).toBe(`kind-${name}`)
    expect(assertSafeContext({ kubeconfig: lab.kubeconfig, context: lab.context }).reason).toBe('lab')
    expect(lab.manifest['kind.nodeImage']).toMatch(/^purplekind\/node:v1\.36\.3-[0-9a-f]{12}$/)
    const node = JSON.parse((await kubectl('get', 'nodes', '-o', 'json')).stdout).items[0]
    expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True')
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//)
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.36.3')
    const pods = JSON.parse((await kubectl('get', 'pods', '-n', 'kube-system', '-o', 'json')).stdout)
      .items as {
      metadata: { name: string }
      status: { phase: string }
    }[]
    const running = (prefix: string) =>
      pods.filter((p) => p.metadata.name.startsWith(prefix) && p.status.phase === 'Running').length
    expect(running('coredns-')).toBeGreaterThanOrEqual(1)
    expect(running('purplekind-netpol-')).toBe(1)
  })

  const runPod = (pod: string, script: string) =>
    kubectl(
      'run',
      '-n',
      'purple-live',
      pod,
      '--image=purplekind/workload:1',
      '--image-pull-policy=Never',
      '--restart=Never',
      '--command',
      '--',
      'sh',
      '-c',
      script,
    )

  it('runs a real pod of the workload image that reaches the IMDS decoy and nothing else', async () => {
    await kubectl('create', 'namespace', 'purple-live')
    try {
      await runPod('probe', 'echo probe-started; exec sleep 600')
      await kubectl('wait', '-n', 'purple-live', '--for=condition=Ready', 'pod/probe', '--timeout=120s')
      const exec = (...cmd: string[]) =>
        execa(
          lab.binDir ? `${lab.binDir}/kubectl` : 'kubectl',
          [
            `--kubeconfig=${lab.kubeconfig}`,
            `--context=${lab.context}`,
            'exec',
            '-n',
            'purple-live',
            'probe',
            '--',
            ...cmd,
          ],
          { reject: false },
        )
      // The real CLIs are in the image.
      expect((await exec('aws', '--version')).stdout).toMatch(/^aws-cli\//)
      // 169.254.169.254 answers from the decoy (the lab's IMDS; its role until a run serves its own).
      const role = await exec(
        'curl',
        '-sS',
        '-m',
        '5',
        'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      )
      expect(role.exitCode).toBe(0)
      expect(role.stdout).toBe(lab.decoys.imds?.role)
      // A listener on the gateway that is not a decoy port is out of reach.
      const gateway = (lab.decoys.imds?.hostUrl && new URL(lab.decoys.imds.hostUrl).hostname) as string
      const server: Server = createServer((s) => s.end('reached\n'))
      await new Promise<void>((r) => server.listen(0, gateway, () => r()))
      const port = (server.address() as { port: number }).port
      try {
        const out = await exec('curl', '-sS', '-m', '3', `http://${gateway}:${port}/`)
        expect(out.exitCode).not.toBe(0)
        expect(out.stdout).not.toContain('reached')
      } finally {
        server.close()
      }
      // CRI logs arrive as container-logs events with the pod they came from.
      const logs = lab.collectors.find((c) => c.source === 'container-logs')!
      const seen: TelemetryEvent[] = []
      await logs.start((e) => seen.push(e))
      await runPod('talker', 'echo hello-from-cri; sleep 30')
      await expect
        .poll(() => seen.find((e) => e.raw.line === 'hello-from-cri')?.raw, { timeout: 60_000 })
        .toMatchObject({ pod: 'talker', namespace: 'purple-live', container: 'talker', stream: 'stdout' })
      await logs.stop()
    } finally {
      await kubectl('delete', 'namespace', 'purple-live', '--wait=false')
    }
  })

  it('delivers the audit event of a secret list through the webhook', async () => {
    const events: TelemetryEvent[] = []
    const collector = lab.collectors.find((c) => c.source === 'k8s-audit')!
    await collector.start((e) => events.push(e))
    await kubectl('get', 'secrets', '-n', 'default')
    await expect
      .poll(
        () =>
          events.some(
            (e) =>
              e.raw.verb === 'list' && (e.raw.objectRef as { resource?: string })?.resource === 'secrets',
          ),
        { timeout: 15_000 },
      )
      .toBe(true)
    await collector.stop()
  })
})
