// A run on a lab: picks the provider, brings the lab up, attaches the run's services (decoys, Docker,
// collectors) and detection pipelines, runs the selected steps (`repeat` times) and returns the result.
import path from 'node:path'
import type { RuleSet } from '../detection/types.js'
import { PurpleError } from '../errors.js'
import { attachRunServices } from '../lab/compose.js'
import { canaryValues } from '../lab/decoys/canaries.js'
import { venvDir } from '../lab/decoys/venv.js'
import { chooseProvider } from '../lab/detect.js'
import { labHome } from '../lab/local/index.js'
import type { Lab, LabProvider } from '../lab/provider.js'
import { loadProviders } from '../lab/registry.js'
import { assertSafeContext } from '../lab/safety.js'
import type { Redactor } from '../redact/redactor.js'
import type { Scenario } from '../scenario/load.js'
import { ALERTS_TOKEN_ENV, type ExternalAlerts, suppliedIntakeToken } from './alert-intake.js'
import { cloudEnvFor } from './cloud-env.js'
import { createPipelines, type DetectionPipeline } from './pipelines/index.js'
import { Recorder } from './record.js'
import { mergeAttempts } from './repeat.js'
import type { RunResult } from './result.js'
import { runScenarios } from './runner.js'
import type { LabSpec } from './spec.js'

export interface LabRunHooks {
  /** Progress lines, already redacted. */
  log(line: string): void
  /** A long step (bringing the lab up): returns a function marking it done or failed. */
  task(title: string): (ok: boolean, detail?: string) => void
  /** Runs `work` so that an interrupt (Ctrl-C) aborts `signal` instead of killing the process. */
  interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T>
}

/** A lab that failed mid-run: the reports keep the steps done so far; `hint` says how to recover. */
export interface LabFault {
  /** Redacted. */
  message: string
  hint: string
}

export interface LabRunOutcome {
  result: RunResult
  lab: { provider: Lab['provider']; name: string }
  fault?: LabFault
}

export async function runOnLab(spec: LabSpec, run: RunInputs, hooks: LabRunHooks): Promise<LabRunOutcome> {
  const { redactor } = run
  const log = (l: string) => hooks.log(redactor.redact(l))
  const choice = await chooseProvider(
    spec.env,
    await loadProviders(spec.existing ? { existing: spec.existing } : {}),
  )
  log(`lab: ${choice.provider.name} — ${choice.reason}`)
  return hooks.interruptible((signal) => runOn(choice.provider, spec, { ...run, log, signal }, hooks))
}

/** What the session decided before the lab: the steps, the rules, the run's id and its redactor. */
export interface RunInputs {
  scenarios: Scenario[]
  ruleSet: RuleSet
  /** `--pipeline` specs; empty: the built-in engines. */
  pipelines: readonly string[]
  runId: string
  redactor: Redactor
}

interface LiveRun extends RunInputs {
  log: (line: string) => void
  signal: AbortSignal
}

async function runOn(
  provider: LabProvider,
  spec: LabSpec,
  r: LiveRun,
  hooks: LabRunHooks,
): Promise<LabRunOutcome> {
  const { scenarios, ruleSet, runId, redactor, log, signal } = r
  const runDir = path.join(labHome(), 'runs', runId)
  const done = hooks.task(`bringing up the ${provider.name} lab "${spec.name}"`)
  let base: Lab
  try {
    base = await provider.up({ name: spec.name, log })
    done(true, base.context)
  } catch (e) {
    done(false)
    throw e
  }
  assertSafeContext({ kubeconfig: base.kubeconfig, context: base.context, allowContexts: spec.allowContexts })
  const services = await attachRunServices(base, scenarios, runId, log)
  for (const v of canaryValues(services.canaries)) redactor.add(v)
  try {
    const intake = livePipelines(spec, r.pipelines, { ruleSet, runDir, redactor, log })
    const lab = services.lab
    const recorder = spec.record
      ? new Recorder(spec.record, redactor, { runId, provider: lab.provider, manifest: lab.manifest })
      : undefined
    const runs: RunResult[] = []
    for (let n = 1; n <= spec.repeat && !signal.aborted; n++) {
      if (spec.repeat > 1) log(`— attempt ${n}/${spec.repeat}`)
      runs.push(
        await runScenarios({
          lab,
          scenarios,
          ruleSet,
          runId,
          canaries: services.canaries,
          redactor,
          log,
          signal,
          runDir,
          venvBin: path.join(venvDir(), 'bin'),
          cloudEnv: cloudEnvFor(services),
          ...(services.docker ? { docker: services.docker } : {}),
          ...(recorder ? { recorder } : {}),
          ...(spec.keep ? { keep: true } : {}),
          pipelines: intake.pipelines,
          ...(intake.alerts ? { externalAlerts: intake.alerts } : {}),
          ...(spec.stepTimeoutMs !== undefined ? { stepTimeoutMs: spec.stepTimeoutMs } : {}),
        }),
      )
    }
    const result = mergeAttempts(runs)
    if (signal.aborted)
      throw new PurpleError('PURPLE_INTERRUPTED', 'run interrupted; lab objects were cleaned up', {
        hint: 'leftovers, if any: purplekind sweep',
      })
    result.manifest.harness = 'purplekind 0.1.0'
    result.manifest.node = process.version
    result.manifest.decoys = Object.keys(lab.decoys).join(', ')
    for (const [k, why] of Object.entries(services.decoys.unavailable))
      result.findings.push({ kind: 'decoy-unavailable', message: `decoy ${k} unavailable: ${why}` })
    if (intake.alerts) noteExternalAlerts(result, intake.alerts, spec.builtinCounts)
    const fault = labFault(result, lab, spec, redactor)
    return { result, lab: { provider: lab.provider, name: spec.name }, ...(fault ? { fault } : {}) }
  } finally {
    await services.stop()
  }
}

// The run's detection pipelines: `--pipeline` specs as given, else the built-in engines; an intake port
// adds the http pipeline (it listens for the whole run; a generated token goes to a 0600 file).
function livePipelines(
  spec: LabSpec,
  given: readonly string[],
  ctx: { ruleSet: RuleSet; runDir: string; redactor: Redactor; log: (line: string) => void },
): { pipelines: DetectionPipeline[]; alerts?: ExternalAlerts } {
  const specs = given.length ? [...given] : ['builtin']
  if (spec.intake) specs.push(`http=${spec.intake.port}`)
  const tokenFile = spec.intake?.tokenFile
  const supplied = specs.some((s) => s.startsWith('http'))
    ? suppliedIntakeToken({ ...(tokenFile !== undefined ? { file: tokenFile } : {}), env: process.env })
    : undefined
  const pipelines = createPipelines(specs, {
    ...ctx,
    live: true,
    builtinCounts: spec.builtinCounts,
    ...(supplied
      ? {
          alertsToken: supplied,
          alertsTokenSource: tokenFile !== undefined ? '--alerts-token-file' : ALERTS_TOKEN_ENV,
        }
      : {}),
  })
  const http = pipelines.find((p) => 'alerts' in p) as { alerts: ExternalAlerts } | undefined
  return { pipelines, ...(http ? { alerts: http.alerts } : {}) }
}

function noteExternalAlerts(result: RunResult, alerts: ExternalAlerts, builtin: boolean): void {
  result.manifest.externalAlerts = `${alerts.received} received${builtin ? '' : '; built-in alerts not counted (--no-builtin)'}`
  const stray = alerts.unattributed()
  if (stray.length)
    result.findings.push({
      kind: 'unattributed-alerts',
      message: `${stray.length} external alert(s) matched no step (their audit event belonged to no step, or no step naming the rule ran at their time): ${[...new Set(stray.map((a) => `${a.rule} [${a.pipeline}]`))].slice(0, 5).join(', ')}`,
    })
}

/**
 * A lab that failed mid-run: the result keeps the steps done so far (the rest NOT_RUN); the hint names
 * commands that work once the lab answers again (sweep needs the apiserver).
 */
function labFault(result: RunResult, lab: Lab, spec: LabSpec, redactor: Redactor): LabFault | undefined {
  const fault = result.findings.find((x) => x.kind === 'lab-fault')
  if (!fault) return undefined
  const arg = (v: string) => (/^[\w./:@=-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`)
  const back =
    lab.provider === 'existing'
      ? 'restore the cluster'
      : `purplekind lab up --env ${arg(lab.provider)} --lab ${arg(spec.name)}`
  const sweep = [
    'purplekind sweep --kubeconfig',
    arg(lab.kubeconfig),
    '--context',
    arg(lab.context),
    ...spec.allowContexts.flatMap((c) => ['--allow-context', arg(c)]),
    // A lab without Docker has no containers to sweep; other runs' may be in use on the engine.
    ...(lab.capabilities.docker ? [] : ['--no-docker']),
  ].join(' ')
  return {
    message: redactor.redact(fault.message),
    hint: `the reports hold the steps done so far; bring the lab back (${back}), then: ${sweep}`,
  }
}
