import { randomUUID } from 'node:crypto'
import { chmod, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { PurpleError } from '../errors.js'
import { ApiTimeoutError, type Credential, type KubeApi, resourcePath } from '../kube/api.js'
import type { Lab } from '../lab/provider.js'
import type { Actor, Step } from '../scenario/schema.js'
import { unsafeStepArgs } from '../scenario/step-flags.js'
import type { ClientCert } from './client-cert.js'
import { type IdentityContext, MARKER_EXTRA, resolveKubeIdentity } from './identity.js'
import { parseDuration } from './verdict.js'

/** What the harness did for one step and what came back (outputs stay in memory; reporters redact). */
export interface ActionRecord {
  argv: string[]
  /** Identity as it will appear in telemetry (`system:serviceaccount:ns:sa`, a user name, `docker`). */
  identity: string
  sentAt: number
  endedAt: number
  exitCode: number
  stdout: string
  stderr: string
  /** Audit ids of the harness's own API requests for this step (the `api` tool). */
  auditIDs: string[]
  /** Marker the action carried, when the tool lets us set one (impersonation extra). */
  marker?: string
  /** Cloud credential ids the action presented (an AWS access key id), as decoy records name them. */
  credentials?: string[]
}

export interface ActionContext {
  runId: string
  lab: Lab
  api: KubeApi
  runDir: string
  /** Earlier steps' captured stdout, by capture name (in memory only). */
  captures: Map<string, string>
  /** Token minted per service account for this run. */
  tokens: Map<string, string>
  venvBin: string
  cloudEnv: (cloud: 'aws' | 'azure', credentials?: string) => Record<string, string>
  signal?: AbortSignal
  /** `--step-timeout`: how long an action may run when its step sets no `timeout:` (default 60 s). */
  stepTimeoutMs?: number
}

/** A run's context before its first step: no captures and no minted tokens yet. */
export function newActionContext(o: Omit<ActionContext, 'captures' | 'tokens'>): ActionContext {
  return { ...o, captures: new Map(), tokens: new Map() }
}

export const DEFAULT_STEP_TIMEOUT_MS = 60_000
/** The exit code timeout(1) uses for a command it killed; a timed-out action reports it too. */
export const TIMED_OUT_EXIT = 124

/** The step's own `timeout:`, else the run's default. */
export function actionTimeoutMs(step: Step, ctx: Pick<ActionContext, 'stepTimeoutMs'>): number {
  return step.timeout ? parseDuration(step.timeout) : (ctx.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS)
}

/** The first stderr line of an action that was killed at its timeout: the verdict quotes it. */
export function timedOutMessage(ms: number): string {
  return `timed out after ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`} and was killed (raise the step's timeout: or --step-timeout)`
}

export { jwtClaims, jwtSubject, MARKER_EXTRA } from './identity.js'

// How a step authenticates with kubectl, from the one resolver (identity.ts).
async function kubeIdentity(
  actor: Actor,
  ctx: ActionContext,
): Promise<{ args: string[]; identity: string; token?: string; cert?: ClientCert; marker?: string }> {
  const who = await resolveKubeIdentity(actor, identityContext(ctx))
  switch (who.kind) {
    case 'cert':
      return { args: [], identity: who.identity, cert: who.cert, marker: who.marker }
    case 'token':
      return {
        args: [],
        identity: who.identity,
        token: who.token,
        ...(who.marker ? { marker: who.marker } : {}),
      }
    case 'impersonate':
      return {
        args: [
          `--as=${who.user}`,
          ...who.groups.map((g) => `--as-group=${g}`),
          `--as-user-extra=${MARKER_EXTRA}=${who.marker}`,
        ],
        identity: who.identity,
        marker: who.marker,
      }
  }
}

/** How a step's actor authenticates through the harness's API client, from the same resolver. */
export async function apiCredential(
  actor: Actor,
  ctx: ActionContext,
): Promise<{ identity: string; as: Credential }> {
  const who = await resolveKubeIdentity(actor, identityContext(ctx))
  switch (who.kind) {
    case 'cert':
      return {
        identity: who.identity,
        as: { kind: 'cert', certPem: who.cert.certPem, keyPem: who.cert.keyPem },
      }
    case 'token':
      return { identity: who.identity, as: { kind: 'token', token: who.token } }
    case 'impersonate':
      return { identity: who.identity, as: { kind: 'impersonate', user: who.user, groups: who.groups } }
  }
}

function identityContext(ctx: ActionContext): IdentityContext {
  return {
    lab: ctx.lab,
    runDir: ctx.runDir,
    captures: ctx.captures,
    serviceAccountToken: (sa) => serviceAccountToken(sa, ctx),
  }
}

/** A short-lived token for a lab service account, minted once per run via TokenRequest. */
export async function serviceAccountToken(sa: string, ctx: ActionContext): Promise<string> {
  const cached = ctx.tokens.get(sa)
  if (cached) return cached
  const [ns, name] = sa.split('/')
  const res = await ctx.api.must('POST', resourcePath('serviceaccounts/token', ns, name), {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  })
  const token = (res.body as { status?: { token?: string } }).status?.token
  if (!token) throw new PurpleError('PURPLE_LAB_FAILED', `TokenRequest for ${sa} returned no token`)
  ctx.tokens.set(sa, token)
  return token
}

// A kubeconfig holding only the server, its CA and the actor's own credential (never the admin's).
async function actorKubeconfig(ctx: ActionContext, who: { token: string } | ClientCert): Promise<string> {
  const file = path.join(ctx.runDir, `token-${randomUUID()}.kubeconfig`)
  const ca = ctx.api.caData
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'lab',
        cluster: {
          server: ctx.api.server.replace(/\/$/, ''),
          ...(ca ? { 'certificate-authority-data': ca } : {}),
        },
      },
    ],
    users: [
      {
        name: 'actor',
        user:
          'token' in who
            ? { token: who.token }
            : {
                'client-certificate-data': Buffer.from(who.certPem).toString('base64'),
                'client-key-data': Buffer.from(who.keyPem).toString('base64'),
              },
      },
    ],
    contexts: [{ name: ctx.lab.context, context: { cluster: 'lab', user: 'actor' } }],
    'current-context': ctx.lab.context,
  }
  await writeFile(file, JSON.stringify(doc), { mode: 0o600 })
  await chmod(file, 0o600)
  return file
}

function kubectlBinary(lab: Lab): string {
  return lab.binDir ? path.join(lab.binDir, 'kubectl') : 'kubectl'
}

/** The environment every real CLI starts from. */
export function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
  }
}

/** `${runId}` in a step's argv becomes the run id (e.g. to label objects a step creates for cleanup). */
export function expandArgs(argv: readonly string[], runId: string): string[] {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder users write in YAML
  return argv.map((a) => a.replaceAll('${runId}', runId))
}

/**
 * kubectl's argv: the step's arguments, then the harness's connection and identity flags — after the
 * step's own flags, so that for kubectl (the last occurrence of a flag wins) nothing in the step can
 * override them, but before a `--`, after which everything belongs to the command exec'd in the pod.
 */
export function kubectlArgs(stepArgs: readonly string[], harness: readonly string[]): string[] {
  const dashes = stepArgs.indexOf('--')
  if (dashes === -1) return [...stepArgs, ...harness]
  return [...stepArgs.slice(0, dashes), ...harness, ...stepArgs.slice(dashes)]
}

/** Runs one step's action for real. Failures are returned as data (exit code, stderr), not thrown. */
export async function runAction(step: Step, ctx: ActionContext): Promise<ActionRecord> {
  const argv = expandArgs(step.run, ctx.runId)
  // Loading refused these already; checked again here for steps built without loadScenarios.
  const unsafe = unsafeStepArgs(argv)[0]
  if (unsafe) {
    throw new PurpleError(
      'PURPLE_SCENARIO_UNSAFE_FLAG',
      `step ${step.id}: run[${unsafe.index}] "${unsafe.flag}" ${unsafe.reason}: the harness sets that, a step may not`,
    )
  }
  const [tool, ...rest] = argv
  const base = { auditIDs: [] as string[] }
  let cmd: string
  let args: string[]
  let env: Record<string, string> = {}
  let identity = 'unknown'
  let marker: string | undefined
  switch (tool) {
    case 'kubectl': {
      const who = await kubeIdentity(step.actor, ctx)
      identity = who.identity
      marker = who.marker
      const own = who.token ? { token: who.token } : who.cert
      const kubeconfig = own ? await actorKubeconfig(ctx, own) : ctx.lab.kubeconfig
      cmd = kubectlBinary(ctx.lab)
      args = kubectlArgs(rest, [`--kubeconfig=${kubeconfig}`, `--context=${ctx.lab.context}`, ...who.args])
      break
    }
    case 'api':
      return await runApiAction(step, rest, ctx)
    case 'docker':
      if (!ctx.lab.dockerEnv)
        throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', 'this lab has no Docker Engine')
      cmd = 'docker'
      args = rest
      env = ctx.lab.dockerEnv
      identity = 'docker'
      break
    case 'aws':
    case 'az': {
      const actor = step.actor
      if (!('cloud' in actor)) throw new PurpleError('PURPLE_INTERNAL', 'cloud tool without a cloud actor')
      cmd = path.join(ctx.venvBin, tool)
      args = rest
      env = ctx.cloudEnv(actor.cloud, actor.credentials ? ctx.captures.get(actor.credentials) : undefined)
      identity = actor.cloud
      break
    }
    default:
      throw new PurpleError('PURPLE_INTERNAL', `unknown tool ${tool}`)
  }
  const sentAt = Date.now()
  const timeoutMs = actionTimeoutMs(step, ctx)
  const r = await execa(cmd, args, {
    // Only what the harness sets: an inherited AWS_*, DOCKER_CONTEXT or KUBECONFIG could point a real CLI
    // somewhere other than the lab and its decoys.
    env: { ...baseEnv(), ...env },
    extendEnv: false,
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
    ...(ctx.signal ? { cancelSignal: ctx.signal } : {}),
  })
  const endedAt = Date.now()
  if (step.capture) ctx.captures.set(step.capture, r.stdout)
  const stderr = r.stderr || (r.failed && !r.exitCode ? (r.shortMessage ?? '') : '')
  return {
    ...base,
    ...(env.AWS_ACCESS_KEY_ID ? { credentials: [env.AWS_ACCESS_KEY_ID] } : {}),
    argv: [tool as string, ...rest],
    identity,
    sentAt,
    endedAt,
    exitCode: r.timedOut ? TIMED_OUT_EXIT : (r.exitCode ?? (r.failed ? 1 : 0)),
    stdout: r.stdout,
    stderr: r.timedOut ? `${timedOutMessage(timeoutMs)}\n${stderr}` : stderr,
    ...(marker ? { marker } : {}),
  }
}

/**
 * `api <verb> <resource> [name] [-n ns] [--user-agent UA]`: the harness's own client, acting as the
 * step's actor. Used where a real workload would use a client library rather than kubectl (a controller
 * reading its own namespace), and it carries an Audit-ID.
 */
const API_VERBS = new Map([
  ['get', 'GET'],
  ['list', 'GET'],
  ['delete', 'DELETE'],
])

async function runApiAction(step: Step, argv: string[], ctx: ActionContext): Promise<ActionRecord> {
  const positional: string[] = []
  let namespace: string | undefined
  let userAgent = 'purplekind-app/1.0 (linux/amd64)'
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '-n' || a === '--namespace') namespace = argv[++i]
    else if (a === '--user-agent') userAgent = argv[++i] ?? userAgent
    else positional.push(a)
  }
  const [verb, resource, name] = positional
  const method = API_VERBS.get(verb ?? '')
  if (!method || !resource)
    throw new PurpleError(
      'PURPLE_SCENARIO_INVALID',
      `api step ${step.id}: use "api get|list|delete <resource> [name] [-n ns]"`,
    )
  const { identity, as } = await apiCredential(step.actor, ctx)
  const sentAt = Date.now()
  const timeoutMs = actionTimeoutMs(step, ctx)
  const res = await ctx.api
    .request(method, resourcePath(resource, namespace, verb === 'list' ? undefined : name), undefined, {
      as,
      userAgent,
      timeoutMs,
    })
    .catch((e: unknown) => {
      if (e instanceof ApiTimeoutError) return e
      throw e
    })
  const endedAt = Date.now()
  if (res instanceof ApiTimeoutError)
    return {
      argv: step.run,
      identity,
      sentAt,
      endedAt,
      exitCode: TIMED_OUT_EXIT,
      stdout: '',
      stderr: timedOutMessage(timeoutMs),
      auditIDs: [res.auditID],
    }
  const ok = res.status >= 200 && res.status < 300
  const stdout = typeof res.body === 'string' ? res.body : JSON.stringify(res.body)
  if (step.capture) ctx.captures.set(step.capture, stdout)
  return {
    argv: step.run,
    identity,
    sentAt,
    endedAt,
    exitCode: ok ? 0 : 1,
    stdout: ok ? stdout : '',
    stderr: ok ? '' : `HTTP ${res.status}: ${(res.body as { message?: string })?.message ?? ''}`,
    auditIDs: [res.auditID],
  }
}
