// Runs a plan on a live lab: sets up every scenario the plan draws from plus the background namespace,
// then fires each action at its time with the runner's own action code (real kubectl, docker, aws, az,
// the API client), while the lab's telemetry streams to the blue side's feed. At the end it ties each
// attack to its telemetry, exactly as `run` does, and cleans the lab up.
import { mkdir, rm } from 'node:fs/promises'
import { KubeApi, resourcePath } from '../kube/api.js'
import type { DockerSetup } from '../lab/compose.js'
import type { Canaries } from '../lab/decoys/canaries.js'
import type { Lab } from '../lab/provider.js'
import type { Redactor } from '../redact/redactor.js'
import {
  type ActionContext,
  type ActionRecord,
  apiCredential,
  expandArgs,
  newActionContext,
  runAction,
  serviceAccountToken,
} from '../run/actions.js'
import { correlate } from '../run/correlate.js'
import { stagePodTokens, toTrace } from '../run/runner.js'
import { applyKubeSetup, deleteKubeObjects } from '../run/setup.js'
import type { Scenario } from '../scenario/load.js'
import type { Step } from '../scenario/schema.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import { BACKGROUND_SCENARIO, BACKGROUND_SCENARIO_ID } from './background.js'
import type { TelemetryFeed } from './feed.js'
import type { ExercisePlan, PlannedAction } from './plan.js'
import type { ActionLog, AttackOutcome } from './store.js'

export interface LiveOptions {
  lab: Lab
  plan: ExercisePlan
  scenarios: readonly Scenario[]
  runId: string
  canaries: Canaries
  redactor: Redactor
  log: (line: string) => void
  signal: AbortSignal
  runDir: string
  venvBin: string
  cloudEnv: ActionContext['cloudEnv']
  docker?: DockerSetup
  feed: TelemetryFeed
  /** Called once the lab is set up and the clock starts. */
  onStart(startedAt: number): Promise<void> | void
  /** Called every couple of seconds while the exercise runs. */
  onTick?(elapsedMs: number): Promise<void> | void
}

export interface LiveResult {
  startedAt: number
  endedAt: number
  actions: ActionLog[]
  attacks: AttackOutcome[]
  events: number
}

/** After the last planned second, telemetry still in flight is forwarded for this long. */
const DRAIN_MS = 3000
const TEARDOWN_BUDGET_MS = 60_000

export async function runLiveExercise(o: LiveOptions): Promise<LiveResult> {
  const api = KubeApi.fromKubeconfig(o.lab.kubeconfig, o.lab.context)
  const ctx = newActionContext({
    runId: o.runId,
    lab: o.lab,
    api,
    runDir: o.runDir,
    venvBin: o.venvBin,
    cloudEnv: o.cloudEnv,
    signal: o.signal,
  })
  const events: TelemetryEvent[] = []
  const started: { stop(): Promise<void> }[] = []
  let startedAt = Number.POSITIVE_INFINITY
  let setupIDs = new Set<string>()
  try {
    await mkdir(o.runDir, { recursive: true, mode: 0o700 })
    for (const c of o.lab.collectors) {
      await c.start((e) => {
        events.push(e)
        // The blue side sees the cluster from the start on, without the harness's own setup requests.
        if (e.timeMs >= startedAt && !(e.auditID && setupIDs.has(e.auditID))) o.feed.push(e)
      })
      started.push(c)
    }
    await setUp(o, api, ctx)
    // Tokens minted now, so that during the exercise every API request is an action's own.
    for (const sa of serviceAccounts(o.plan)) o.redactor.add(await serviceAccountToken(sa, ctx))
    setupIDs = new Set(api.sent)
    startedAt = Date.now()
    await o.onStart(startedAt)
    o.log(`exercise running: ${Math.round(o.plan.durationMs / 1000)} s`)
    const ticker = setInterval(() => void o.onTick?.(Date.now() - startedAt), 2000)
    const logs = new Map<string, Promise<{ log: ActionLog; record: ActionRecord }>>()
    try {
      for (const action of o.plan.actions) {
        if (!(await sleepUntil(startedAt + action.atMs, o.signal))) break
        const before = action.after ? logs.get(action.after) : undefined
        logs.set(
          action.id,
          (async () => {
            await before?.catch(() => undefined)
            return await execute(action, ctx, o)
          })(),
        )
      }
      const done = new Map<string, { log: ActionLog; record: ActionRecord }>()
      for (const [id, p] of logs) done.set(id, await p)
      await sleepUntil(startedAt + o.plan.durationMs + DRAIN_MS, o.signal)
      const endedAt = Date.now()
      const attacks = o.plan.actions
        .filter((a) => a.kind === 'attack' && done.has(a.id))
        .map((a) =>
          attackOutcome(a, done.get(a.id) as { log: ActionLog; record: ActionRecord }, events, setupIDs),
        )
      return {
        startedAt,
        endedAt,
        actions: [...done.values()].map((d) => d.log),
        attacks,
        events: events.length,
      }
    } finally {
      clearInterval(ticker)
    }
  } finally {
    for (const c of started) await c.stop().catch(() => undefined)
    await tearDown(o, api)
    await rm(o.runDir, { recursive: true, force: true })
  }
}

function serviceAccounts(plan: ExercisePlan): Set<string> {
  const out = new Set<string>()
  for (const a of plan.actions) if ('serviceAccount' in a.step.actor) out.add(a.step.actor.serviceAccount)
  return out
}

async function setUp(o: LiveOptions, api: KubeApi, ctx: ActionContext): Promise<void> {
  const byId = new Map(o.scenarios.map((s) => [s.metadata.id, s]))
  const staged = new Set<string>()
  for (const id of o.plan.scenarios) {
    const s = id === BACKGROUND_SCENARIO_ID ? BACKGROUND_SCENARIO : byId.get(id)
    if (!s) continue
    o.log(`setting up ${id}`)
    await applyKubeSetup(api, o.lab, s, o.runId, o.canaries)
    for (const c of s.setup.containers) await o.docker?.createContainer({ ...c, runId: o.runId })
    // A pod several scenarios declare keeps its first service account (its first declaration created it).
    const fresh = s.setup.pods.filter((pod) => !staged.has(`${pod.namespace}/${pod.name}`))
    for (const pod of fresh) staged.add(`${pod.namespace}/${pod.name}`)
    await stagePodTokens(fresh, o, ctx)
  }
}

async function execute(
  action: PlannedAction,
  ctx: ActionContext,
  o: LiveOptions,
): Promise<{ log: ActionLog; record: ActionRecord }> {
  const step = action.step
  const record = await (step.run[0] === 'api' && step.run[1] === 'watch'
    ? watchAction(step, ctx)
    : runAction(step, ctx)
  ).catch((e: unknown) => failed(step, e))
  const captured = step.capture ? ctx.captures.get(step.capture)?.trim() : undefined
  if (captured && captured.length >= 16) o.redactor.add(captured)
  return {
    record,
    log: {
      id: action.id,
      kind: action.kind,
      title: step.title,
      identity: record.identity,
      command: o.redactor.redact(expandArgs(step.run, o.runId).join(' ')),
      sentAt: record.sentAt,
      endedAt: record.endedAt,
      exitCode: record.exitCode,
    },
  }
}

/** `api watch <resource> -n ns --user-agent UA`: a controller's one-second watch (background only). */
export async function watchAction(step: Step, ctx: ActionContext): Promise<ActionRecord> {
  const argv = step.run
  const resource = argv[2] ?? 'pods'
  const ns = argv[argv.indexOf('-n') + 1]
  const ua = argv.includes('--user-agent') ? argv[argv.indexOf('--user-agent') + 1] : undefined
  const { identity, as } = await apiCredential(step.actor, ctx)
  const sentAt = Date.now()
  const res = await ctx.api.request(
    'GET',
    `${resourcePath(resource, ns)}?watch=true&timeoutSeconds=1`,
    undefined,
    { as, ...(ua ? { userAgent: ua } : {}) },
  )
  return {
    argv,
    identity,
    sentAt,
    endedAt: Date.now(),
    exitCode: res.status === 200 ? 0 : 1,
    stdout: '',
    stderr: res.status === 200 ? '' : `HTTP ${res.status}`,
    auditIDs: [res.auditID],
  }
}

function failed(step: Step, e: unknown): ActionRecord {
  const now = Date.now()
  return {
    argv: step.run,
    identity: 'unknown',
    sentAt: now,
    endedAt: now,
    exitCode: 1,
    stdout: '',
    stderr: e instanceof Error ? e.message : String(e),
    auditIDs: [],
  }
}

function attackOutcome(
  action: PlannedAction,
  d: { log: ActionLog; record: ActionRecord },
  events: readonly TelemetryEvent[],
  setupIDs: ReadonlySet<string>,
): AttackOutcome {
  const trace = toTrace(action.step, d.record)
  const corr = correlate(trace, events, setupIDs)
  return {
    id: action.id,
    scenario: action.scenario,
    step: action.step.id,
    title: action.step.title,
    techniques: action.techniques,
    identity: d.record.identity,
    command: d.log.command,
    sentAt: d.record.sentAt,
    endedAt: d.record.endedAt,
    exitCode: d.record.exitCode,
    auditIDs: [...new Set(corr.events.flatMap((e) => (e.auditID ? [e.auditID] : [])))],
    trace,
  }
}

/** Sleeps until `at`; false when aborted first. */
function sleepUntil(at: number, signal: AbortSignal): Promise<boolean> {
  const ms = at - Date.now()
  if (signal.aborted) return Promise.resolve(false)
  if (ms <= 0) return Promise.resolve(true)
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      resolve(false)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

async function tearDown(o: LiveOptions, api: KubeApi): Promise<void> {
  const work = (async () => {
    await deleteKubeObjects(api, o.runId)
    await o.docker?.removeRunContainers(o.runId)
  })()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), TEARDOWN_BUDGET_MS)
  })
  const r = await Promise.race([work.then(() => 'ok'), timeout]).catch((e: unknown) => `error: ${String(e)}`)
  clearTimeout(timer)
  if (r !== 'ok') o.log(`! cleanup incomplete (${r}); run: purplekind sweep`)
}
