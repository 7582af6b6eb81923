import { mkdir, rm } from 'node:fs/promises'
import { Engine } from '../detection/engine.js'
import type { CompiledRule, RuleSet } from '../detection/types.js'
import { PurpleError } from '../errors.js'
import type { DockerSetup } from '../lab/compose.js'
import { type Canaries, canaryValues } from '../lab/decoys/canaries.js'
import type { Lab } from '../lab/provider.js'
import type { Redactor } from '../redact/redactor.js'
import { fingerprint } from '../redact/redactor.js'
import type { Scenario } from '../scenario/load.js'
import type { Step } from '../scenario/schema.js'
import type { TelemetryEvent } from '../telemetry/event.js'
import {
  type ActionContext,
  type ActionRecord,
  expandArgs,
  runAction,
  serviceAccountToken,
} from './actions.js'
import type { ExternalAlerts } from './alert-intake.js'
import { assembleResult } from './assemble.js'
import { type ActionTrace, correlate, dockerTargets, harnessTraffic, kubectlTargets } from './correlate.js'
import { judgeStep, unrunStep } from './judge.js'
import { KubeApi } from './kube-api.js'
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

// Runs every scenario against a live lab and returns the run's results (reports are written by the caller).
export async function runScenarios(o: RunOptions): Promise<RunResult> {
  const startedAt = new Date().toISOString()
  const rulesById = new Map<string, CompiledRule>(o.ruleSet.rules.map((r) => [r.id, r]))
  const bus = new TelemetryBus(o.pipelines ? undefined : new Engine(o.ruleSet))
  const api = new KubeApi(o.lab.kubeconfig, o.lab.context)
  const steps: StepResult[] = []
  const findings: Finding[] = []
  const ctx: ActionContext = {
    runId: o.runId,
    lab: o.lab,
    api,
    runDir: o.runDir,
    captures: new Map(),
    tokens: new Map(),
    venvBin: o.venvBin,
    cloudEnv: o.cloudEnv,
    signal: o.signal,
    ...(o.stepTimeoutMs !== undefined ? { stepTimeoutMs: o.stepTimeoutMs } : {}),
  }
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
      try {
        await setUp(scenario, o, api, ctx)
        for (const step of scenario.steps) {
          if (o.signal.aborted) break
          const why = skips.get(step)
          if (why) {
            skip(step, why)
            continue
          }
          const result = await runStep(scenario, step, o, ctx, bus, rulesById)
          findings.push(...result.findings)
          steps.push(result.step)
          o.log(
            `  ${result.step.passed ? '✔' : '✖'} ${step.id} ${result.step.verdict}${result.step.latencyMs !== undefined ? ` (${result.step.latencyMs} ms)` : ''}`,
          )
        }
      } finally {
        // Tokens are bound to the service account's uid: the next scenario recreates the accounts.
        ctx.captures.clear()
        ctx.tokens.clear()
        if (!o.keep) await tearDown(scenario, o, api)
      }
    }
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
  // Simulated pods get their service-account token where a real kubelet would mount it.
  if (o.lab.stagePodFiles) {
    for (const pod of scenario.setup.pods) {
      const token = await serviceAccountToken(`${pod.namespace}/${pod.serviceAccount ?? 'default'}`, ctx)
      o.redactor.add(token)
      await o.lab.stagePodFiles(pod, {
        '/var/run/secrets/kubernetes.io/serviceaccount/token': token,
        '/var/run/secrets/kubernetes.io/serviceaccount/namespace': pod.namespace,
      })
    }
  }
}

// Teardown has its own time budget so Ctrl-C or a failed step still leaves a clean lab.
async function tearDown(scenario: Scenario, o: RunOptions, api: KubeApi): Promise<void> {
  const work = (async () => {
    const removed = await deleteKubeObjects(api, o.runId)
    if (o.docker) await o.docker.removeRunContainers(o.runId)
    return removed
  })()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), TEARDOWN_BUDGET_MS)
  })
  const r = await Promise.race([work, timeout]).catch(
    (e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`,
  )
  clearTimeout(timer) // a pending budget timer would keep the process alive after the run
  if (r === 'timeout' || typeof r === 'string')
    o.log(`  ! cleanup of ${scenario.metadata.id} incomplete (${r}); run: purplekind sweep`)
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
