import { mkdir, rm } from 'node:fs/promises'
import { Engine } from '../detection/engine.js'
import type { CompiledRule, RuleSet } from '../detection/types.js'
import { PurpleError } from '../errors.js'
import { KubeApi } from '../kube/api.js'
import type { DockerSetup } from '../lab/compose.js'
import { type Canaries, canaryValues } from '../lab/decoys/canaries.js'
import { type Lab, RUN_LABEL } from '../lab/provider.js'
import type { Redactor } from '../redact/redactor.js'
import { fingerprint } from '../redact/redactor.js'
import type { Scenario } from '../scenario/load.js'
import type { Setup, Step } from '../scenario/schema.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import {
  type ActionContext,
  type ActionRecord,
  expandArgs,
  newActionContext,
  runAction,
  serviceAccountToken,
} from './actions.js'
import type { ExternalAlerts } from './alert-intake.js'
import { assembleResult } from './assemble.js'
import { type ActionTrace, correlate, dockerTargets, harnessTraffic, kubectlTargets } from './correlate.js'
import { judgeStep, unrunStep } from './judge.js'
import type { DetectionPipeline } from './pipelines/pipeline.js'
import type { Recorder } from './record.js'
import type { Finding, RunResult, StepResult } from './result.js'
import { applyKubeSetup, deleteKubeObjects } from './setup.js'
import { TelemetryBus } from './telemetry-bus.js'
import { isDetected, parseDuration } from './verdict.js'

export interface RunOptions {
  lab: Lab
  scenarios: readonly Scenario[]
  ruleSet: RuleSet
  runId: string
  canaries: Canaries
  redactor: Redactor
  log: (line: string) => void
  signal: AbortSignal
  runDir: string
  venvBin: string
  cloudEnv: ActionContext['cloudEnv']
  docker?: DockerSetup
  recorder?: Recorder
  /** Keep lab objects after the run (debugging). */
  keep?: boolean
  /** Alerts posted by an external pipeline (`--alerts-listen`); they count next to the built-in ones. */
  externalAlerts?: ExternalAlerts
  /** Detection pipelines (`--pipeline`); default: the built-in engines over `ruleSet`. */
  pipelines?: readonly DetectionPipeline[]
  /** `--step-timeout` in ms: the action timeout for steps without their own `timeout:`. */
  stepTimeoutMs?: number
}

/** Benign steps: how long to keep listening for (unwanted) alerts after the action. */
const BENIGN_SETTLE_MS = 2500
/** After the last expected alert, a little longer so all stages of the request are in the evidence. */
const TAIL_MS = 400
const TEARDOWN_BUDGET_MS = 60_000
/** After a lab fault the apiserver has just come back, or not: a shorter wait. */
const FAULT_TEARDOWN_BUDGET_MS = 15_000

// Runs every scenario against a live lab and returns the run's results (reports are written by the caller).
export async function runScenarios(o: RunOptions): Promise<RunResult> {
  const startedAt = new Date().toISOString()
  const rulesById = new Map<string, CompiledRule>(o.ruleSet.rules.map((r) => [r.id, r]))
  const bus = new TelemetryBus(o.pipelines ? undefined : new Engine(o.ruleSet))
  const api = KubeApi.fromKubeconfig(o.lab.kubeconfig, o.lab.context)
  const steps: StepResult[] = []
  const findings: Finding[] = []
  /** Set once the lab fails mid-run (why): every later step is NOT_RUN, and the run still reports. */
  let fault: string | undefined
  /** What teardown could not remove (a dead apiserver): named in the lab-fault finding. */
  const leftovers: string[] = []
  const ctx = newActionContext({
    runId: o.runId,
    lab: o.lab,
    api,
    runDir: o.runDir,
    venvBin: o.venvBin,
    cloudEnv: o.cloudEnv,
    signal: o.signal,
    ...(o.stepTimeoutMs !== undefined ? { stepTimeoutMs: o.stepTimeoutMs } : {}),
  })
  try {
    // Inside the try: if a collector fails to start, bus.stop() releases the ones that did.
    await mkdir(o.runDir, { recursive: true, mode: 0o700 })
    if (o.pipelines) await bus.attach(o.pipelines)
    // An intake not among the pipelines (older callers) still sees the bus.
    if (o.externalAlerts && !o.pipelines?.some((p) => 'alerts' in p && p.alerts === o.externalAlerts))
      o.externalAlerts.attach(bus)
    await bus.start(o.lab.collectors)
    for (const scenario of o.scenarios) {
      if (o.signal.aborted) break
      o.log(`▶ ${scenario.metadata.id} — ${scenario.metadata.title}`)
      const skips = skipReasons(scenario, o.lab)
      const skip = (step: Step, why: string) => {
        o.log(`  ↷ ${step.id} skipped: ${why}`)
        steps.push(unrunStep(scenario, step, 'SKIPPED', why, new Date().toISOString()))
        o.recorder?.addSkipped(scenario.metadata.id, step.id, why)
      }
      if (skips.size === scenario.steps.length) {
        for (const [step, why] of skips) skip(step, why)
        continue // nothing to run: no setup either
      }
      const notRun = (step: Step) => {
        o.log(`  ⛔ ${step.id} not run (lab fault)`)
        steps.push(unrunStep(scenario, step, 'NOT_RUN', `not run: ${fault}`, new Date().toISOString()))
      }
      if (fault) {
        scenario.steps.forEach(notRun)
        continue // the lab is gone: no setup, nothing to tear down
      }
      try {
        fault = await setUp(scenario, o, api, ctx).then(() => undefined, faultOrRethrow(api))
        if (fault) o.log(`  ✖ the lab failed during setup: ${fault}`)
        for (const step of scenario.steps) {
          if (o.signal.aborted) break
          if (fault) {
            notRun(step)
            continue
          }
          const why = skips.get(step)
          if (why) {
            skip(step, why)
            continue
          }
          const result = await runStep(scenario, step, o, ctx, bus, rulesById)
          fault = await faultAfterStep(api, result.step)
          findings.push(...result.findings)
          steps.push(result.step)
          o.log(
            `  ${result.step.passed ? '✔' : '✖'} ${step.id} ${result.step.verdict}${result.step.latencyMs !== undefined ? ` (${result.step.latencyMs} ms)` : ''}`,
          )
          if (fault) o.log(`  ✖ the lab failed during ${step.id}: ${fault}`)
        }
      } finally {
        // Tokens are bound to the service account's uid: the next scenario recreates the accounts.
        ctx.captures.clear()
        ctx.tokens.clear()
        if (!o.keep) {
          const left = await tearDown(scenario, o, api, fault !== undefined)
          if (left) leftovers.push(left)
          // The lab may have died after the last action (while its alert was awaited): teardown shows it.
          if (left && !fault) fault = await api.unready()
        }
      }
    }
    if (fault) findings.push(labFaultFinding(fault, steps, leftovers))
  } finally {
    await bus.stop()
    await rm(o.runDir, { recursive: true, force: true })
  }
  if (o.recorder) await o.recorder.writeTelemetry(bus.events, api.sent)
  return assembleResult({
    runId: o.runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    lab: o.lab.name,
    provider: o.lab.provider,
    manifest: { ...o.lab.manifest },
    scenarios: o.scenarios,
    steps,
    findings,
    bus,
    ruleSet: o.ruleSet,
  })
}

/** Steps this lab cannot run, with why (a missing capability). */
function skipReasons(scenario: Scenario, lab: Lab): Map<Step, string> {
  const out = new Map<Step, string>()
  for (const step of scenario.steps) {
    const missing = (step.requires ?? []).filter((c) => !lab.capabilities[c])
    if (missing.length) out.set(step, `the ${lab.provider} lab lacks ${missing.join(', ')}`)
  }
  return out
}

async function setUp(scenario: Scenario, o: RunOptions, api: KubeApi, ctx: ActionContext): Promise<void> {
  await applyKubeSetup(api, o.lab, scenario, o.runId, o.canaries)
  for (const c of scenario.setup.containers) {
    if (!o.docker)
      throw new PurpleError(
        'PURPLE_PROVIDER_UNAVAILABLE',
        `scenario ${scenario.metadata.id} needs Docker containers but the lab has no Docker Engine`,
      )
    await o.docker.createContainer({ ...c, runId: o.runId })
  }
  await stagePodTokens(scenario.setup.pods, o, ctx)
}

/** Simulated pods get their service-account token where a real kubelet would mount it (real pods: no-op). */
export async function stagePodTokens(
  pods: readonly Setup['pods'][number][],
  o: Pick<RunOptions, 'lab' | 'redactor'>,
  ctx: ActionContext,
): Promise<void> {
  if (!o.lab.stagePodFiles) return
  for (const pod of pods) {
    const token = await serviceAccountToken(`${pod.namespace}/${pod.serviceAccount ?? 'default'}`, ctx)
    o.redactor.add(token)
    await o.lab.stagePodFiles(pod, {
      '/var/run/secrets/kubernetes.io/serviceaccount/token': token,
      '/var/run/secrets/kubernetes.io/serviceaccount/namespace': pod.namespace,
    })
  }
}

// Teardown has its own time budget so Ctrl-C or a failed step still leaves a clean lab. Returns what it
// could not remove (undefined when all went); after a lab fault it asks the apiserver first, briefly.
async function tearDown(
  scenario: Scenario,
  o: RunOptions,
  api: KubeApi,
  afterFault: boolean,
): Promise<string | undefined> {
  const id = scenario.metadata.id
  // Containers live in Docker, not in the apiserver: removed whatever state the lab is in.
  const containers = o.docker?.removeRunContainers(o.runId).then(
    () => undefined,
    (e: unknown) => `its containers (${errorText(e)})`,
  )
  const down = afterFault ? await api.unready() : undefined
  let kube: string | undefined
  if (down) kube = `${kubeObjectsOf(scenario, o.runId)}: ${down}`
  else {
    const r = await withBudget(
      deleteKubeObjects(api, o.runId),
      afterFault ? FAULT_TEARDOWN_BUDGET_MS : TEARDOWN_BUDGET_MS,
    ).catch((e: unknown) => `error: ${errorText(e)}`)
    if (typeof r === 'string') kube = `${kubeObjectsOf(scenario, o.runId)} (${r})`
  }
  const left = [kube, await containers].filter(Boolean).join('; ')
  if (!left) return undefined
  o.log(
    `  ! cleanup of ${id} incomplete — not removed: ${left}; \`purplekind sweep\` removes them once the lab is back`,
  )
  return `${id}: ${left}`
}

/** The Kubernetes objects a scenario's setup creates, as a reader can find them. */
function kubeObjectsOf(scenario: Scenario, runId: string): string {
  const ns = scenario.setup.namespaces
  return `its Kubernetes objects${ns.length ? ` (namespaces ${ns.join(', ')} and cluster-scoped ones)` : ''} labelled ${RUN_LABEL}=${runId}`
}

async function withBudget<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer) // a pending budget timer would keep the process alive after the run
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

// Lab faults. A failing action is ordinary (denied, a decoy down): only an apiserver that no longer
// answers /readyz stops the run, and then the steps done so far are kept and reported.

/** After a step whose action failed: why the lab is gone, or undefined if it still answers. */
async function faultAfterStep(api: KubeApi, step: StepResult): Promise<string | undefined> {
  if (step.exitCode === undefined || step.exitCode === 0) return undefined
  const down = await api.unready()
  if (down)
    step.explanation = `${step.explanation ? `${step.explanation}; ` : ''}the lab failed during this step: ${down}`
  return down
}

/** A setup error is a lab fault when the apiserver no longer answers; any other error still throws. */
function faultOrRethrow(api: KubeApi): (e: unknown) => Promise<string> {
  return async (e: unknown) => {
    const down = await api.unready()
    if (!down) throw e
    return `${down} (setup: ${errorText(e)})`
  }
}

function labFaultFinding(fault: string, steps: readonly StepResult[], leftovers: readonly string[]): Finding {
  const notRun = steps.filter((s) => s.verdict === 'NOT_RUN').length
  return {
    kind: 'lab-fault',
    message: `the lab failed mid-run: ${fault}; ${notRun} step(s) not run${leftovers.length ? `; not cleaned up: ${leftovers.join(' | ')}` : ''}`,
  }
}

async function runStep(
  scenario: Scenario,
  step: Step,
  o: RunOptions,
  ctx: ActionContext,
  bus: TelemetryBus,
  rules: ReadonlyMap<string, CompiledRule>,
): Promise<{ step: StepResult; findings: Finding[] }> {
  const startedAt = new Date().toISOString()
  const action = await runAction(step, ctx).catch((e: unknown) => failedAction(step, e))
  const trace = toTrace(step, action)
  // A captured output (a token, stolen credentials) is a secret from now on.
  const captured = step.capture ? ctx.captures.get(step.capture)?.trim() : undefined
  if (captured && captured.length >= 16) o.redactor.add(captured)
  const ignore = harnessTraffic(ctx.api.sent, action.auditIDs)
  const budget = parseDuration(step.expect.within)
  const window = { sentAt: action.sentAt, endedAt: action.endedAt, budgetMs: budget }
  const alertsOn = (events: TelemetryEvent[], final = false) =>
    o.externalAlerts?.alertsFor(events, step, window, { final }) ?? bus.alertsOn(events)
  const waitUntil =
    action.endedAt + (step.kind === 'attack' && action.exitCode === 0 ? budget : BENIGN_SETTLE_MS)
  let satisfiedAt: number | undefined
  while (Date.now() < waitUntil && !o.signal.aborted) {
    const { events } = correlate(trace, bus.events, ignore)
    const fired = new Set(alertsOn(events).map((a) => a.rule))
    const done = step.kind === 'attack' && events.length > 0 && isDetected(step.expect.alerts, fired)
    if (done) {
      satisfiedAt ??= Date.now()
      if (Date.now() - satisfiedAt >= TAIL_MS) break
    }
    await bus.next(Math.min(200, Math.max(1, waitUntil - Date.now())))
  }
  const corr = correlate(trace, bus.events, ignore)
  const alerts = alertsOn(corr.events, true)
  const { result, findings } = judgeStep({
    scenario,
    step,
    actor: describeActor(step, action),
    command: expandArgs(step.run, o.runId).join(' '),
    exitCode: action.exitCode,
    stdout: action.stdout,
    stderr: action.stderr,
    sentAt: action.sentAt,
    endedAt: action.endedAt,
    startedAt,
    canariesRetrieved: retrieved(action, o.canaries),
    correlated: corr,
    alerts,
    rules,
  })
  await o.recorder?.addStep(scenario.metadata.id, step.id, trace, action, result)
  return { step: result, findings }
}

export function toTrace(step: Step, a: ActionRecord): ActionTrace {
  return {
    tool: step.run[0] ?? '',
    identity: a.identity,
    sentAt: a.sentAt,
    endedAt: a.endedAt,
    auditIDs: a.auditIDs,
    ...(a.marker ? { marker: a.marker } : {}),
    ...(step.run[0] === 'docker' ? { targets: dockerTargets(a.argv) } : {}),
    ...(step.run[0] === 'kubectl' && kubectlTargets(a.argv).length
      ? { targets: kubectlTargets(a.argv) }
      : {}),
    ...(a.credentials?.length ? { credentials: a.credentials } : {}),
  }
}

function describeActor(step: Step, a: ActionRecord): string {
  const actor = step.actor
  if ('user' in actor)
    return actor.groups.length ? `${actor.user} (groups: ${actor.groups.join(', ')})` : actor.user
  if ('serviceAccount' in actor) return `serviceaccount ${actor.serviceAccount}`
  if ('token' in actor) return `stolen token of ${a.identity}`
  if ('docker' in actor) return 'docker client (engine socket)'
  return `${actor.cloud} CLI${actor.credentials ? ' with stolen credentials' : ''}`
}

/** Fingerprints of canary secrets the action's output contained (proof of retrieval without values). */
function retrieved(a: ActionRecord, c: Canaries): string[] {
  const out = `${a.stdout}\n${a.stderr}`
  return canaryValues(c)
    .filter((v) => out.includes(v) || out.includes(Buffer.from(v).toString('base64')))
    .map((v) => fingerprint(v))
}

/** An action the harness could not even start (e.g. an empty capture): a failed step, never a crash. */
export function failedAction(step: Step, e: unknown): ActionRecord {
  const now = Date.now()
  const why =
    e instanceof PurpleError ? `${e.message} [${e.code}]` : e instanceof Error ? e.message : String(e)
  return {
    argv: step.run,
    identity: 'unknown',
    sentAt: now,
    endedAt: now,
    exitCode: 1,
    stdout: '',
    stderr: why,
    auditIDs: [],
  }
}
