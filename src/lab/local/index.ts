// The `local` lab: etcd, kube-apiserver and kube-controller-manager as plain processes on 127.0.0.1,
// kwok standing in for the node (pods go Running; exec/logs are served by kwok), the audit webhook to a
// harness receiver, and every `kubectl exec` command confined to a network namespace whose only
// reachable address besides its own loopback is the decoy IMDS at 169.254.169.254.

import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { chmod, copyFile, mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'
import { KubeApi } from '../../kube/api.js'
import { type Assets, auditPolicyFile, packageRoot, resolveAssets } from '../assets.js'
import { AuditWebhookReceiver } from '../audit-receiver.js'
import { venvDir } from '../decoys/venv.js'
import { createSandbox, deleteSandbox, IMDS_IP, inNetns, netnsExists, netnsName } from '../netns.js'
import { type DaemonRecord, type DaemonSpec, isAlive, startDaemon, stopDaemon, tailFile } from '../process.js'
import type { Lab, LabProvider } from '../provider.js'
import {
  AUDIT_WEBHOOK_MODE,
  apiserverArgs,
  contextName,
  controllerManagerArgs,
  etcdArgs,
  kubeconfigYaml,
  kwokArgs,
  kwokConfigYaml,
  type LabPaths,
  type LabPorts,
  labPaths,
  nodeManifest,
  SAFE_PATH,
  sandboxCloudFiles,
  sandboxExecEnv,
  webhookKubeconfigYaml,
} from './config.js'
import { makePki } from './pki.js'
import { createSandboxHome, killSandboxProcesses, removeSandboxHome } from './sandbox-home.js'
import { type LabState, readState, writeState } from './state.js'

/** Exec'd commands run as nobody:nogroup, never as root. */
export const SANDBOX_USER = { uid: 65534, gid: 65534 } as const
/** IAM role name the decoy IMDS is expected to advertise for this lab. */
export const IMDS_ROLE = 'purplekind-lab-node'
export const NODE_NAME = 'purplekind-node'

type Log = (line: string) => void

export function labHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.PURPLEKIND_HOME || join(homedir(), '.purplekind')
}

export function labDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(labHome(env), 'labs', name)
}

export function validateLabName(name: string): void {
  if (!/^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$/.test(name)) {
    throw new PurpleError('PURPLE_USAGE', `lab name '${name}' is invalid`, {
      hint: 'use 1-30 lowercase letters, digits and inner hyphens (it names a network namespace)',
    })
  }
}

function execWorkDir(name: string): string {
  return join(tmpdir(), `purplekind-exec-${name}`)
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', 'the local lab needs root', {
      hint: 'it creates a network namespace for the exec sandbox; run as root (CI) or use --env kind',
    })
  }
}

/** Distinct free loopback TCP ports (all held open at once so none repeats). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const s = createServer()
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.listen(0, '127.0.0.1', () => resolve())
      })
      return s
    }),
  )
  const ports = servers.map((s) => {
    const a = s.address()
    return typeof a === 'object' && a ? a.port : 0
  })
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

function pem(p: LabPaths, name: string, kind: 'cert' | 'key'): string {
  return readFileSync(kind === 'cert' ? p.cert(name) : p.key(name), 'utf8')
}

/** The lab's apiserver as its admin (from the PKI: the kubeconfig is written after startup). */
function adminApi(p: LabPaths, port: number): KubeApi {
  return KubeApi.fromPem({
    server: `https://127.0.0.1:${port}`,
    caPem: pem(p, 'ca', 'cert'),
    certPem: pem(p, 'admin', 'cert'),
    keyPem: pem(p, 'admin', 'key'),
  })
}

/** True when GET `path` answers 200 within a second (any error counts as not ready). */
async function answers(api: KubeApi, path: string): Promise<boolean> {
  return (await api.unready(1000, path)) === undefined
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  rec: DaemonRecord | undefined,
  ms: number,
) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (rec && !isAlive(rec)) {
      throw new PurpleError('PURPLE_LAB_FAILED', `${what} exited during startup:\n${tailFile(rec.logFile)}`, {
        hint: `full log: ${rec.logFile}`,
      })
    }
    if (await check()) return
    await sleep(150)
  }
  throw new PurpleError('PURPLE_LAB_FAILED', `${what} not ready after ${ms / 1000} s`, {
    hint: rec ? `see ${rec.logFile}` : 'see the logs in the lab directory',
  })
}

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok
  } catch {
    return false
  }
}

/** kwok serves `kubectl logs` from files in the CRI log format: `<RFC3339Nano> <stream> F <text>`. */
export function criLogLine(text: string, stream: 'stdout' | 'stderr' = 'stdout'): string {
  return `${new Date().toISOString()} ${stream} F ${text}\n`
}

/** Writes PKI-derived files, configs and the throw-away exec workDir for a fresh lab. */
async function prepareFiles(name: string, p: LabPaths, ports: LabPorts, assets: Assets): Promise<void> {
  await mkdir(p.dir, { recursive: true, mode: 0o700 })
  await chmod(p.dir, 0o700) // keys and kubeconfigs must stay out of the sandbox user's reach
  for (const d of [p.pki, p.etcdData, p.sockets]) await rm(d, { recursive: true, force: true })
  for (const d of [p.pki, p.logs, join(p.dir, 'audit'), p.sockets])
    await mkdir(d, { recursive: true, mode: 0o700 })
  await makePki(p.pki)
  const ca = pem(p, 'ca', 'cert')
  const server = `https://127.0.0.1:${ports.apiserver}`
  const client = (cert: string) => ({ certPem: pem(p, cert, 'cert'), keyPem: pem(p, cert, 'key') })
  const token = randomBytes(32).toString('hex')
  const files: [string, string][] = [
    [p.kubeconfig, kubeconfigYaml({ name: contextName(name), server, caPem: ca, user: client('admin') })],
    [p.componentKubeconfig('kcm'), kubeconfigYaml({ name: 'kcm', server, caPem: ca, user: client('kcm') })],
    [
      p.componentKubeconfig('kwok'),
      kubeconfigYaml({ name: 'kwok', server, caPem: ca, user: client('kwok-client') }),
    ],
    [p.webhookToken, token],
    [p.webhookConfig, webhookKubeconfigYaml(ports.receiver, ca, token)],
    [
      p.kwokConfig,
      kwokConfigYaml(assets.stagesDir, execWorkDir(name), SANDBOX_USER, p.podLog, execEnv(name, ports)),
    ],
    [p.podLog, criLogLine('purplekind: simulated container log (kwok)')],
  ]
  for (const [file, text] of files) await writeFile(file, text, { mode: 0o600 })
  await chmod(p.podLog, 0o644)
  await copyFile(auditPolicyFile(), p.auditPolicy)
  const work = execWorkDir(name)
  await removeSandboxHome(work, SANDBOX_USER)
  await createSandboxHome(work, SANDBOX_USER)
}

/** The environment of exec'd commands: the cloud CLIs' venv on PATH, aws → moto, az → the run's profile. */
function execEnv(name: string, ports: LabPorts): Record<string, string> {
  const workDir = execWorkDir(name)
  return sandboxExecEnv({ workDir, venvBin: join(venvDir(), 'bin'), awsPort: ports.aws ?? 0 })
}

/**
 * Forwarder rules on each side of the namespace. The decoy bridges (aws, azure) keep the port number, so
 * http://127.0.0.1:<port> means the same decoy inside the sandbox and on the host (the Azure decoy's
 * certificate and registered cloud endpoints name that URL).
 */
export function forwarderRules(p: LabPaths, ports: LabPorts): { host: string[]; sandbox: string[] } {
  const sock = (n: string) => `unix:${p.socket(n)}`
  const decoys = (['aws', 'azure'] as const).flatMap((n) => (ports[n] ? [[n, ports[n]] as const] : []))
  return {
    host: [
      `${sock('apiserver')}=tcp:127.0.0.1:${ports.apiserver}`,
      `${sock('imds')}=tcp:127.0.0.1:${ports.imds}`,
      `tcp:127.0.0.1:${ports.kwok}=${sock('kwok')}`,
      ...decoys.map(([n, port]) => `${sock(n)}=tcp:127.0.0.1:${port}`),
    ],
    sandbox: [
      `tcp:127.0.0.1:${ports.apiserver}=${sock('apiserver')}`,
      `tcp:${IMDS_IP}:80=${sock('imds')}`,
      `${sock('kwok')}=tcp:127.0.0.1:${ports.kwok}`,
      ...decoys.map(([n, port]) => `tcp:127.0.0.1:${port}=${sock(n)}`),
    ],
  }
}

async function createNode(api: KubeApi): Promise<void> {
  await api.must('POST', '/api/v1/nodes', nodeManifest(NODE_NAME), [409])
}

async function nodeReady(api: KubeApi): Promise<boolean> {
  const r = await api.request('GET', `/api/v1/nodes/${NODE_NAME}`).catch(() => undefined)
  if (r?.status !== 200) return false
  const node = r.body as { status?: { conditions?: { type: string; status: string }[] } }
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

/** Starts every component in order, recording each pid in the state file as soon as it exists. */
async function startComponents(state: LabState, p: LabPaths, log: Log): Promise<void> {
  const bin = (b: string) => join(state.binDir, b)
  const { ports, netns } = state
  const env = { PATH: SAFE_PATH, HOME: p.dir }
  const start = async (spec: Omit<DaemonSpec, 'logFile'>) => {
    const rec = startDaemon({ ...spec, logFile: p.log(spec.name), cwd: p.dir })
    state.daemons.push(rec)
    await writeState(p.state, state)
    return rec
  }
  const admin = adminApi(p, ports.apiserver)

  log(`exec sandbox: network namespace ${netns}`)
  await createSandbox(netns, { rootOnlyPorts: [ports.apiserver, ports.kwok] })

  const etcd = await start({ name: 'etcd', command: bin('etcd'), args: etcdArgs(p, ports), env })
  await waitFor('etcd', () => httpOk(`http://127.0.0.1:${ports.etcdClient}/health`), etcd, 30_000)
  log(`etcd ready on 127.0.0.1:${ports.etcdClient}`)

  const api = await start({
    name: 'kube-apiserver',
    command: bin('kube-apiserver'),
    args: apiserverArgs(p, ports),
    env,
  })
  await waitFor('kube-apiserver', () => answers(admin, '/readyz'), api, 90_000)
  log(`kube-apiserver ready on https://127.0.0.1:${ports.apiserver}`)

  const kcmArgs = controllerManagerArgs(p)
  await start({
    name: 'kube-controller-manager',
    command: bin('kube-controller-manager'),
    args: kcmArgs,
    env,
  })

  const rules = forwarderRules(p, ports)
  const script = join(packageRoot(), 'lab', 'assets', 'forwarder.mjs')
  const fwdHost = await start({
    name: 'forwarder-host',
    command: process.execPath,
    args: [script, ...rules.host],
    env,
  })
  const [ip, ipArgs] = inNetns(netns, process.execPath, [script, ...rules.sandbox])
  const fwdSandbox = await start({ name: 'forwarder-sandbox', command: ip, args: ipArgs, env })
  for (const rec of [fwdHost, fwdSandbox]) {
    await waitFor(rec.name, async () => tailFile(rec.logFile, 1).startsWith('forwarder ready'), rec, 10_000)
  }

  // kwok's environment is inherited by every exec'd command, so it gets nothing but PATH and HOME. kwok
  // resolves the command with its own PATH, so that PATH has the cloud CLIs too (the exec env repeats it).
  const kwokEnv = { PATH: `${join(venvDir(), 'bin')}:${SAFE_PATH}`, HOME: state.workDir, LANG: 'C.UTF-8' }
  // kwok (and so every exec'd command) gets a private, empty /run: host sockets there (docker.sock, …)
  // are hidden, and stagePodFiles can write pod files under /var/run without touching the host.
  const privateRun = 'mount -t tmpfs -o mode=0755,size=8m purplekind-run /run && exec "$0" "$@"'
  const [kip, kwokCmd] = inNetns(netns, 'sh', ['-c', privateRun, bin('kwok'), ...kwokArgs(p, ports)])
  const kwok = await start({ name: 'kwok', command: kip, args: kwokCmd, env: kwokEnv })
  const kwokApi = KubeApi.fromPem({ server: `https://127.0.0.1:${ports.kwok}`, caPem: pem(p, 'ca', 'cert') })
  await waitFor('kwok', () => answers(kwokApi, '/healthz'), kwok, 30_000)

  await createNode(admin)
  await waitFor(`node ${NODE_NAME}`, () => nodeReady(admin), kwok, 30_000)
  log(`kwok ready; node ${NODE_NAME} is Ready`)
}

async function healthy(state: LabState, p: LabPaths): Promise<boolean> {
  if (!state.complete || !state.daemons.every(isAlive) || !netnsExists(state.netns)) return false
  return answers(adminApi(p, state.ports.apiserver), '/readyz')
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

/**
 * Writes `files` into the exec sandbox's private /run (as a kubelet would mount a service-account
 * token); every simulated pod sees the same files. Only paths under /run or /var/run can be staged.
 */
export async function stageSandboxFiles(state: LabState, files: Record<string, string>): Promise<void> {
  const kwok = state.daemons.find((d) => d.name === 'kwok')
  if (!kwok || !isAlive(kwok)) {
    throw new PurpleError('PURPLE_LAB_FAILED', `local lab '${state.name}': kwok is not running`, {
      hint: 'run `purplekind lab up` again',
    })
  }
  // Staging writes into kwok's private /run; never into the host's (a lab started without one).
  const [own, theirs] = await Promise.all([
    readlink('/proc/self/ns/mnt'),
    readlink(`/proc/${kwok.pid}/ns/mnt`),
  ])
  if (own === theirs) {
    throw new PurpleError(
      'PURPLE_LAB_FAILED',
      `local lab '${state.name}': kwok shares the host mount namespace`,
      {
        hint: 'recreate the lab: purplekind lab down && purplekind lab up',
      },
    )
  }
  for (const [path, content] of Object.entries(files)) {
    if (!/^\/(var\/)?run\/[^\0]+$/.test(path) || path.split('/').includes('..')) {
      throw new PurpleError(
        'PURPLE_USAGE',
        `cannot stage pod file ${path}: the local lab stages only under /var/run`,
      )
    }
    const write = 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod 0644 "$1"'
    const r = await execa('nsenter', ['-t', String(kwok.pid), '-m', '--', 'sh', '-c', write, 'sh', path], {
      input: content,
      reject: false,
    })
    if (r.exitCode !== 0) throw new PurpleError('PURPLE_LAB_FAILED', `staging ${path} failed: ${r.stderr}`)
  }
}

function labObject(state: LabState, p: LabPaths): Lab {
  const receiver = new AuditWebhookReceiver({
    port: state.ports.receiver,
    cert: pem(p, 'audit-receiver', 'cert'),
    key: pem(p, 'audit-receiver', 'key'),
    token: readFileSync(p.webhookToken, 'utf8').trim(),
  })
  const { ports } = state
  const cloud = sandboxCloudFiles(state.workDir)
  return {
    provider: 'local',
    name: state.name,
    kubeconfig: p.kubeconfig,
    context: contextName(state.name),
    capabilities: { realPods: false, networkPolicy: false, docker: false },
    collectors: [receiver],
    decoys: {
      imds: { url: `http://${IMDS_IP}`, hostUrl: `http://127.0.0.1:${ports.imds}`, role: IMDS_ROLE },
    },
    binDir: state.binDir,
    // User steps authenticate with certificates of their own from the lab CA (no impersonation).
    clientCA: { cert: p.cert('ca'), key: p.key('ca') },
    stagePodFiles: (_pod, files) => stageSandboxFiles(state, files),
    ...(ports.aws && ports.azure
      ? {
          sandboxDecoys: {
            awsPort: ports.aws,
            azurePort: ports.azure,
            azureConfigDir: cloud.azureConfigDir,
            caBundle: cloud.caBundle,
            owner: SANDBOX_USER,
          },
        }
      : {}),
    manifest: {
      provider: 'local',
      pods: 'simulated (kwok): exec runs in a host sandbox, no kubelet, no NetworkPolicy',
      kubernetes: state.versions.kubernetes ?? 'unknown',
      etcd: state.versions.etcd ?? 'unknown',
      kwok: state.versions.kwok ?? 'unknown',
      auditPolicySha256: sha256(p.auditPolicy),
      auditWebhookMode: `${AUDIT_WEBHOOK_MODE} (max wait 1s)`,
      auditLogFile: p.auditLog,
      apiserver: `https://127.0.0.1:${ports.apiserver}`,
      ports: Object.entries(ports)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      execSandbox: `netns ${state.netns} (lo + ${IMDS_IP} only), uid ${SANDBOX_USER.uid}, workDir ${state.workDir}`,
      execSandboxBridges: [
        `imds=${IMDS_IP}:80`,
        ...(['aws', 'azure'] as const).flatMap((n) => (ports[n] ? [`${n}=127.0.0.1:${ports[n]}`] : [])),
      ].join(','),
    },
  }
}

/**
 * The sandbox user must be able to execute the venv's python (a venv under /root is out of its reach):
 * say so at `up` rather than let every exec'd `aws`/`az` fail with a bare "permission denied".
 */
async function warnIfSandboxCannotRunVenv(log: Log): Promise<void> {
  const python = join(venvDir(), 'bin', 'python3')
  const r = await execa(python, ['-c', 'pass'], { ...SANDBOX_USER, cwd: '/', reject: false })
  if (r.failed) {
    log(
      `warning: uid ${SANDBOX_USER.uid} cannot run ${python} (${(r.shortMessage ?? '').split('\n')[0]}): aws and az ` +
        'will fail inside pods; set PURPLEKIND_VENV to a world-readable venv (scripts/setup.sh, as root: /opt/purplekind/venv)',
    )
  }
}

/** Stops recorded processes (newest first), removes the namespace, workDir and secrets; keeps logs. */
async function teardown(name: string, state: LabState | undefined, p: LabPaths, log: Log): Promise<void> {
  for (const rec of [...(state?.daemons ?? [])].reverse()) {
    if (isAlive(rec)) log(`stopping ${rec.name} (pid ${rec.pid})`)
    await stopDaemon(rec)
  }
  const ns = state?.netns ?? netnsName(name)
  if (netnsExists(ns)) {
    await killSandboxProcesses(ns, SANDBOX_USER)
    log(`removing network namespace ${ns}`)
  }
  await deleteSandbox(ns)
  await removeSandboxHome(state?.workDir ?? execWorkDir(name), SANDBOX_USER)
  for (const f of [p.etcdData, p.sockets, p.state, ...secretFiles(p)]) {
    await rm(f, { recursive: true, force: true })
  }
}

/** Every file of a lab that holds a key or a token (the CA key and client keys, kubeconfigs, the webhook's). */
export function secretFiles(p: LabPaths): string[] {
  return [
    p.pki,
    p.kubeconfig,
    p.webhookToken,
    p.webhookConfig,
    p.componentKubeconfig('kcm'),
    p.componentKubeconfig('kwok'),
  ]
}

export async function labUp(opts: { name: string; log: Log }): Promise<Lab> {
  const { name, log } = opts
  validateLabName(name)
  requireRoot()
  const p = labPaths(labDir(name))
  const previous = readState(p.state)
  if (previous && (await healthy(previous, p))) {
    log(`reusing running local lab '${name}' (https://127.0.0.1:${previous.ports.apiserver})`)
    // Nothing an earlier run's `kubectl exec` started may still run while this run hands files over.
    const killed = await killSandboxProcesses(previous.netns, SANDBOX_USER)
    if (killed) log(`killed ${killed} process(es) an earlier run left in the exec sandbox`)
    return labObject(previous, p)
  }
  if (previous || netnsExists(netnsName(name))) {
    log(`cleaning up a stopped or partial lab '${name}'`)
    await teardown(name, previous, p, log)
  }
  const assets = await resolveAssets({ build: false, log })
  const started = Date.now()
  const [etcdClient, etcdPeer, apiserver, kwok, receiver, imds, aws, azure] = (await freePorts(8)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const ports: LabPorts = { etcdClient, etcdPeer, apiserver, kwok, receiver, imds, aws, azure }
  await warnIfSandboxCannotRunVenv(log)
  const state: LabState = {
    version: 1,
    name,
    dir: p.dir,
    createdAt: new Date().toISOString(),
    netns: netnsName(name),
    workDir: execWorkDir(name),
    binDir: assets.binDir,
    versions: { ...assets.versions },
    ports,
    daemons: [],
    complete: false,
  }
  // A forced quit (process.exit) mid-start runs no catch: still take the keys and tokens with it.
  const wipeSecrets = () => {
    for (const f of secretFiles(p)) rmSync(f, { recursive: true, force: true })
  }
  process.on('exit', wipeSecrets)
  try {
    // Inside the try: an interrupted start (Ctrl-C kills openssl mid-PKI) must not leave the CA key.
    await prepareFiles(name, p, ports, assets)
    await writeState(p.state, state)
    await startComponents(state, p, log)
  } catch (err) {
    log('lab start failed; stopping what was started (logs kept)')
    await teardown(name, state, p, log)
    throw err
  } finally {
    process.off('exit', wipeSecrets)
  }
  state.complete = true
  await writeState(p.state, state)
  log(`local lab '${name}' up in ${((Date.now() - started) / 1000).toFixed(1)} s; kubeconfig ${p.kubeconfig}`)
  return labObject(state, p)
}

export async function labDown(opts: { name: string; log: Log; purge?: boolean }): Promise<void> {
  const { name, log } = opts
  validateLabName(name)
  requireRoot()
  const p = labPaths(labDir(name))
  const state = readState(p.state)
  if (!state && !netnsExists(netnsName(name))) log(`no local lab '${name}' is running`)
  await teardown(name, state, p, log)
  if (opts.purge) await rm(p.dir, { recursive: true, force: true })
  else if (existsSync(p.logs)) log(`logs kept in ${p.logs}`)
}

/**
 * Kills what `kubectl exec` left running in the lab's exec sandbox (a run killed mid-exec leaves its
 * command there); only when no run is alive to be using it. The number killed; 0 without a lab.
 */
export async function sweepSandbox(name: string): Promise<number> {
  validateLabName(name)
  const state = readState(labPaths(labDir(name)).state)
  if (!state || !netnsExists(state.netns)) return 0
  return await killSandboxProcesses(state.netns, SANDBOX_USER)
}

export async function labStatus(opts: { name: string }): Promise<{ running: boolean; detail: string }> {
  validateLabName(opts.name)
  const p = labPaths(labDir(opts.name))
  const state = readState(p.state)
  if (!state) return { running: false, detail: 'not running (no state file)' }
  const alive = state.daemons.filter(isAlive).map((d) => d.name)
  const dead = state.daemons.filter((d) => !isAlive(d)).map((d) => d.name)
  const running = await healthy(state, p)
  const parts = [
    running
      ? `running: https://127.0.0.1:${state.ports.apiserver}`
      : state.complete
        ? 'unhealthy'
        : 'partial start',
    `processes up: ${alive.join(', ') || 'none'}`,
    ...(dead.length ? [`down: ${dead.join(', ')}`] : []),
    `netns ${state.netns}${netnsExists(state.netns) ? '' : ' (missing)'}`,
    `kubeconfig ${p.kubeconfig}`,
  ]
  return { running, detail: parts.join('; ') }
}

async function commandAvailable(cmd: string): Promise<boolean> {
  return (await execa('sh', ['-c', `command -v ${cmd}`], { reject: false })).exitCode === 0
}

export const localProvider: LabProvider = {
  name: 'local',
  async available() {
    try {
      requireRoot()
      for (const cmd of ['ip', 'iptables', 'openssl']) {
        if (!(await commandAvailable(cmd))) return { ok: false, reason: `${cmd} is not installed` }
      }
      await resolveAssets({ build: false, log: () => {} })
      return { ok: true }
    } catch (err) {
      return { ok: false, reason: (err as Error).message }
    }
  },
  up: labUp,
  down: labDown,
  status: labStatus,
}

/** Reads the recorded webhook token (tests use it to prove wrong tokens are refused). */
export async function webhookToken(name: string): Promise<string> {
  return (await readFile(labPaths(labDir(name)).webhookToken, 'utf8')).trim()
}
