// Fault injection on the local lab, through the CLI as a user runs it: a decoy killed mid-run (an honest
// ACTION_FAILED, the run goes on), the harness SIGKILLed at three points and then `purplekind sweep`
// (0 processes, files, sockets and Kubernetes objects of that run left), and the apiserver killed mid-run
// (all four reports written with the steps done so far, the rest NOT_RUN, exit 2, a hint that works).
// The scenarios are small fixtures (test/fixtures/faults) so each run takes seconds; timings are printed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa, type ResultPromise } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labPaths } from '../../src/lab/local/config.js'
import { labDir, labHome, localProvider, SANDBOX_USER } from '../../src/lab/local/index.js'
import { readState } from '../../src/lab/local/state.js'
import { procStartTime } from '../../src/lab/process.js'

const LAB = 'faults'
const FIXTURES = 'test/fixtures/faults'
const log = (line: string) => console.log(`[faults] ${line}`)
const availability = await localProvider.available()
if (!availability.ok) console.log(`[faults] SKIPPED: the local lab cannot run here: ${availability.reason}`)

type Entry =
  | { kind: 'run'; runId: string; pid: number }
  | { kind: 'process'; name: string; pid: number; startTime: string }
  | { kind: 'path'; path: string }

interface Report {
  runId: string
  summary: { notRun?: number }
  steps: { scenario: string; step: string; verdict: string; explanation?: string }[]
  findings: { kind: string; message: string }[]
}

const cli = (args: string[], opts: { timeout?: number } = {}) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, timeout: opts.timeout ?? 240_000 })

const lab = () => {
  const p = labPaths(labDir(LAB))
  const state = readState(p.state)
  if (!state) throw new Error(`lab ${LAB} has no state file`)
  return { p, state, kubectl: path.join(state.binDir, 'kubectl') }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = await probe()
    if (v !== undefined && v !== false) return v
    await sleep(100)
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/** The run journal written by the CLI process `pid` (its header names the pid). */
function journalOf(pid: number): { file: string; entries: Entry[] } | undefined {
  const dir = path.join(labHome(), 'journal')
  if (!existsSync(dir)) return undefined
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name)
    const entries = readEntries(file)
    if (entries[0]?.kind === 'run' && entries[0].pid === pid) return { file, entries }
  }
  return undefined
}

function readEntries(file: string): Entry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Entry]
      } catch {
        return []
      }
    })
}

/** Audit events appended to the lab's audit log since `offset` (bytes). */
function auditSince(offset: number): {
  verb?: string
  stage?: string
  user?: { username?: string }
  objectRef?: { resource?: string; namespace?: string; name?: string }
}[] {
  const buf = readFileSync(lab().p.auditLog)
  return buf
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return l ? [JSON.parse(l)] : []
      } catch {
        return []
      }
    })
}

const auditSize = () => (existsSync(lab().p.auditLog) ? statSync(lab().p.auditLog).size : 0)

function startRun(fixture: string, reports: string): ResultPromise & { lines: string[] } {
  const child = execa(
    'node',
    ['dist/cli/main.js', 'run', '--env', 'local', '--lab', LAB, '--reports', reports, fixture],
    { reject: false, timeout: 240_000 },
  ) as ResultPromise & { lines: string[] }
  child.lines = []
  child.stderr?.on('data', (d: Buffer) => child.lines.push(...d.toString('utf8').split('\n').filter(Boolean)))
  return child
}

const KINDS =
  'namespaces,clusterroles,clusterrolebindings,roles,rolebindings,serviceaccounts,secrets,configmaps,pods'

/** Kubernetes objects labelled with the run id (namespaces being finalized included). */
async function kubeObjects(runId: string): Promise<string[]> {
  const { kubectl, p } = lab()
  const r = await execa(
    kubectl,
    ['--kubeconfig', p.kubeconfig, 'get', KINDS, '-A', '-l', `purplekind.io/run=${runId}`, '-o', 'name'],
    { reject: false, timeout: 30_000 },
  )
  if (r.exitCode !== 0) throw new Error(`kubectl get failed: ${r.stderr}`)
  return r.stdout.split('\n').filter(Boolean)
}

/** Processes in the lab's exec sandbox (what `kubectl exec` started), and any naming the run's namespace. */
async function strayProcesses(namespace: string): Promise<string[]> {
  const { state } = lab()
  const r = await execa('ip', ['netns', 'pids', state.netns], { reject: false })
  // The lab's own daemons (forwarder, kwok) run in the netns too, as root: only the sandbox user's count.
  const uid = (pid: string) => {
    try {
      return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    } catch {
      return undefined
    }
  }
  const inSandbox = r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .filter((pid) => uid(pid) === String(SANDBOX_USER.uid))
  const naming = readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) return false
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(namespace)
    } catch {
      return false // gone meanwhile
    }
  })
  return [...new Set([...inSandbox, ...naming])].map((pid) => {
    try {
      return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`
    } catch {
      return pid
    }
  })
}

interface Leftovers {
  processes: string[]
  paths: string[]
  journal: boolean
  kube: string[]
}

/** What of run `runId` still exists: the journal's processes and paths, the journal, labelled objects. */
async function leftovers(runId: string, entries: readonly Entry[]): Promise<Leftovers> {
  const processes = entries.flatMap((e) =>
    e.kind === 'process' && procStartTime(e.pid) === e.startTime ? [`${e.name} (pid ${e.pid})`] : [],
  )
  const paths = [
    ...new Set([
      ...entries.flatMap((e) => (e.kind === 'path' ? [e.path] : [])),
      path.join(labHome(), 'runs', runId),
    ]),
  ].filter((f) => existsSync(f))
  const journal = existsSync(path.join(labHome(), 'journal', `${runId}.jsonl`))
  processes.push(...(await strayProcesses('faults-k')))
  return { processes, paths, journal, kube: await kubeObjects(runId) }
}

const count = (l: Leftovers) => l.processes.length + l.paths.length + (l.journal ? 1 : 0) + l.kube.length

/** Namespaces are finalized by the controller after sweep's delete: wait for them to go. */
async function leftoversSettled(runId: string, entries: readonly Entry[]): Promise<Leftovers> {
  const deadline = Date.now() + 60_000
  let l = await leftovers(runId, entries)
  while (count(l) && Date.now() < deadline) {
    await sleep(500)
    l = await leftovers(runId, entries)
  }
  return l
}

describe.skipIf(!availability.ok)('faults (live, local lab)', () => {
  let dir = ''
  const timings: Record<string, number> = {}

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'purplekind-faults-'))
    const t0 = Date.now()
    const up = await cli(['lab', 'up', '--env', 'local', '--lab', LAB])
    expect(up.exitCode, up.stderr).toBe(0)
    timings.labUpMs = Date.now() - t0
  })

  afterAll(async () => {
    const down = await cli(['lab', 'down', '--env', 'local', '--lab', LAB])
    if (down.exitCode !== 0) log(`lab down failed: ${down.stderr}`)
    if (dir) await rm(dir, { recursive: true, force: true })
    log(`timings (ms): ${JSON.stringify(timings)}`)
  })

  it('a decoy killed mid-run: the cloud step is an honest ACTION_FAILED and the run goes on', async () => {
    const t0 = Date.now()
    const offset = auditSize()
    const reports = path.join(dir, 'decoy')
    const run = startRun(`${FIXTURES}/decoy.yaml`, reports)
    const journal = await waitFor(
      'the run journal with moto in it',
      () => {
        const j = journalOf(run.pid ?? -1)
        return j?.entries.some((e) => e.kind === 'process' && e.name === 'moto_server') ? j : undefined
      },
      90_000,
    )
    const moto = journal.entries.find((e) => e.kind === 'process' && e.name === 'moto_server') as {
      pid: number
    }
    await waitFor(
      'the first step (list configmaps in faults-c)',
      () =>
        auditSince(offset).some(
          (e) =>
            e.verb === 'list' &&
            e.objectRef?.resource === 'configmaps' &&
            e.objectRef.namespace === 'faults-c',
        ) || undefined,
      90_000,
    )
    process.kill(moto.pid, 'SIGKILL')
    log(`killed moto (pid ${moto.pid}) during step "wait"`)
    const r = await run
    timings.decoyRunMs = Date.now() - t0
    expect(r.exitCode, run.lines.join('\n')).toBe(1) // gaps, not a crash and not a lab fault
    const report = JSON.parse(readFileSync(path.join(reports, 'latest', 'report.json'), 'utf8')) as Report
    const step = (id: string) => report.steps.find((s) => s.step === id)
    expect(step('aws')?.verdict).toBe('ACTION_FAILED')
    expect(step('aws')?.explanation).not.toMatch(/lab failed/)
    expect(step('list')?.verdict).not.toBe('NOT_RUN')
    expect(report.findings.some((f) => f.kind === 'lab-fault')).toBe(false)
  })

  // Kill points: the harness is SIGKILLed when the audit log shows the run reached that point.
  const killPoints: {
    name: string
    fixture?: string
    /** When the audit log shows the run got there; without it, when the sandbox runs the command. */
    at?: (e: ReturnType<typeof auditSince>[number]) => boolean
  }[] = [
    {
      name: 'after setup (pod created, before the first step)',
      at: (e) =>
        e.verb === 'create' && e.objectRef?.resource === 'pods' && e.objectRef.namespace === 'faults-k',
    },
    {
      name: 'mid-step (the first step waits for its alert)',
      at: (e) =>
        e.verb === 'list' && e.objectRef?.resource === 'configmaps' && e.objectRef.namespace === 'faults-k',
    },
    {
      name: 'during teardown (the namespace delete was sent)',
      at: (e) =>
        e.verb === 'delete' && e.objectRef?.resource === 'namespaces' && e.objectRef.name === 'faults-k',
    },
    {
      name: 'mid-exec (a command runs in the pod sandbox)',
      fixture: 'kill-exec.yaml',
    },
  ]
  for (const [i, point] of killPoints.entries()) {
    it(`SIGKILL ${point.name}, then sweep: 0 processes, files, sockets and objects of the run left`, async () => {
      const t0 = Date.now()
      const offset = auditSize()
      const run = startRun(`${FIXTURES}/${point.fixture ?? 'kill.yaml'}`, path.join(dir, `kill-${i}`))
      // The audit log shows an exec only once it ends: that kill point waits for the command itself.
      const at = point.at
      if (at) await waitFor('the kill point', () => auditSince(offset).some(at) || undefined, 120_000)
      if (point.fixture)
        await waitFor(
          'the command in the sandbox',
          async () => (await strayProcesses('faults-k')).some((p) => /^\d+ sleep 120$/.test(p)) || undefined,
          120_000,
        )
      const journal = journalOf(run.pid ?? -1)
      expect(journal, 'the run wrote a journal').toBeDefined()
      run.kill('SIGKILL')
      await run
      const entries = readEntries(journal!.file)
      const runId = (entries[0] as { runId: string }).runId
      const before = await leftovers(runId, entries)
      log(`kill ${i + 1} (${point.name}): before sweep ${JSON.stringify(before)}`)
      // The kill left something for sweep to do (else this test would prove nothing).
      expect(before.journal).toBe(true)
      expect(before.processes.length).toBeGreaterThan(0)
      if (i < 2) expect(before.kube.length).toBeGreaterThan(0)
      const sweep = await cli(['sweep', '--lab', LAB, '--no-docker'])
      expect(sweep.exitCode, sweep.stderr).toBe(0)
      const after = await leftoversSettled(runId, entries)
      log(`kill ${i + 1}: after sweep ${JSON.stringify(after)}`)
      expect(after).toEqual({ processes: [], paths: [], journal: false, kube: [] })
      timings[`kill${i + 1}Ms`] = Date.now() - t0
    })
  }

  // Last: it takes the lab down (the hint's `lab up` brings it back).
  it('the apiserver killed mid-run: four reports, steps done kept, the rest NOT_RUN, exit 2, a hint that works', async () => {
    const t0 = Date.now()
    const offset = auditSize()
    const reports = path.join(dir, 'apiserver')
    const run = startRun(`${FIXTURES}/apiserver`, reports)
    await waitFor(
      'the first step (list configmaps in faults-a)',
      () =>
        auditSince(offset).some(
          (e) =>
            e.verb === 'list' &&
            e.objectRef?.resource === 'configmaps' &&
            e.objectRef.namespace === 'faults-a',
        ) || undefined,
      90_000,
    )
    await sleep(1000)
    const apiserver = lab().state.daemons.find((d) => d.name === 'kube-apiserver')
    expect(apiserver).toBeDefined()
    process.kill(apiserver!.pid, 'SIGKILL')
    const killedAt = Date.now()
    log(`killed kube-apiserver (pid ${apiserver!.pid}) during step "wait"`)
    const r = await run
    timings.apiserverRunMs = Date.now() - t0
    timings.apiserverKillToExitMs = Date.now() - killedAt
    const stderr = run.lines.join('\n')
    log(stderr.split('\n').slice(-8).join('\n'))
    expect(r.exitCode, stderr).toBe(2)
    const latest = path.join(reports, 'latest')
    expect(readdirSync(latest).sort()).toEqual([
      'junit.xml',
      'navigator-layer.json',
      'report.json',
      'report.md',
    ])
    const report = JSON.parse(readFileSync(path.join(latest, 'report.json'), 'utf8')) as Report
    const verdict = (scenario: string, step: string) =>
      report.steps.find((s) => s.scenario === scenario && s.step === step)
    // Done before the fault: judged as usual (the configmaps list was audited, no rule fired).
    expect(verdict('faults.cut-off', 'wait')?.verdict).toBe('LOGGED_NOT_ALERTED')
    // Running when the lab died: its action failed, and the report says why.
    expect(verdict('faults.cut-off', 'list')?.verdict).toBe('ACTION_FAILED')
    expect(verdict('faults.cut-off', 'list')?.explanation).toMatch(
      /the lab failed during this step: apiserver/,
    )
    for (const [s, st] of [
      ['faults.cut-off', 'after'],
      ['faults.never', 'list'],
    ] as const) {
      expect(verdict(s, st)?.verdict).toBe('NOT_RUN')
      expect(verdict(s, st)?.explanation).toMatch(/^not run: apiserver .* unreachable/)
    }
    expect(report.summary.notRun).toBe(2)
    const fault = report.findings.find((f) => f.kind === 'lab-fault')
    expect(fault?.message).toMatch(
      /2 step\(s\) not run; not cleaned up: faults\.cut-off: its Kubernetes objects/,
    )
    expect(readFileSync(path.join(latest, 'junit.xml'), 'utf8')).toContain('type="NOT_RUN"')
    expect(readFileSync(path.join(latest, 'report.md'), 'utf8')).toContain('NOT_RUN')
    expect(stderr).toMatch(/PURPLE_LAB_FAILED/)
    // The hint works: bring the lab back, then sweep, exactly as printed.
    const back = /bring the lab back \((purplekind lab up [^)]*)\)/.exec(stderr)?.[1]
    const sweep = /then: (purplekind sweep [^\n]*)/.exec(stderr)?.[1]
    expect(back, stderr).toBe(`purplekind lab up --env local --lab ${LAB}`)
    expect(sweep, stderr).toBeDefined()
    for (const command of [back!, sweep!]) {
      const t = Date.now()
      const res = await cli(command.split(' ').slice(1))
      log(`${command} → exit ${res.exitCode} in ${Date.now() - t} ms`)
      expect(res.exitCode, res.stderr).toBe(0)
    }
    expect(await kubeObjects(report.runId)).toEqual([])
    expect(existsSync(path.join(labHome(), 'journal', `${report.runId}.jsonl`))).toBe(false)
  })
})
