// `run` and `replay` flags → a RunSpec (src/run/spec.ts). Every flag problem is a PURPLE_USAGE error here,
// before any scenario is read or any lab touched.
import { PurpleError } from '../../errors.js'
import type { EnvChoice } from '../../lab/detect.js'
import { ALERTS_TOKEN_ENV } from '../../run/alert-intake.js'
import { parseRepeat } from '../../run/repeat.js'
import type { SelectionFlags } from '../../run/select.js'
import type { LabSpec, ReportSpec, RunSpec } from '../../run/spec.js'
import { parseDuration } from '../../run/verdict.js'

/** Flags every way of running shares: where reports go, how they are judged, which steps run. */
export interface ReportFlags extends SelectionFlags {
  reports: string
  baseline?: string
  strictBenign?: boolean
  strict?: boolean
  rules: string[]
  /** SPL macros (macros.conf files or macros/ directories). */
  macros?: string[]
  /** `--pipeline <name>[=<arg>]`, in order. */
  pipeline?: string[]
}

export type ReplayFlags = ReportFlags

export interface RunFlags extends ReportFlags {
  /** A lab (or auto), or `replay`: no lab, a recording (--from) re-asserted. */
  env: EnvChoice | 'replay'
  from?: string
  lab: string
  record?: string
  keep?: boolean
  kubeconfig?: string
  context?: string
  allowContext: string[]
  iKnowThisIsNotALab?: boolean
  auditLog?: string
  auditPolicy?: string
  alertsListen?: string
  /** Refused: a token in argv is world-readable in /proc/<pid>/cmdline. */
  alertsToken?: string
  alertsTokenFile?: string
  /** false with --no-builtin: only external alerts count. */
  builtin: boolean
  stepTimeout?: string
  repeat?: string
}

/** `purplekind run [paths…]` (with `--env replay --from <dir>`: a replay). */
export function runSpecFromFlags(paths: string[], f: RunFlags): RunSpec {
  if (f.env === 'replay') {
    if (!f.from)
      throw new PurpleError('PURPLE_USAGE', '--env replay needs --from <recording directory>', {
        hint: 'record one with: purplekind run --record <dir>',
      })
    return replaySpecFromFlags(f.from, paths, f)
  }
  checkIntakeFlags(f)
  const stepTimeoutMs = f.stepTimeout ? parseStepTimeout(f.stepTimeout) : undefined
  const repeat = f.repeat ? parseRepeat(f.repeat) : 1
  if (repeat > 1 && f.record)
    throw new PurpleError('PURPLE_USAGE', '--record records one run: use it without --repeat')
  const source: LabSpec = {
    kind: 'lab',
    env: f.env,
    name: f.lab,
    allowContexts: f.allowContext,
    ...(f.env === 'existing' ? { existing: existingFlags(f) } : {}),
    ...(f.record ? { record: f.record } : {}),
    keep: Boolean(f.keep),
    repeat,
    ...(stepTimeoutMs !== undefined ? { stepTimeoutMs } : {}),
    ...(f.alertsListen !== undefined
      ? {
          intake: {
            port: Number(f.alertsListen),
            ...(f.alertsTokenFile !== undefined ? { tokenFile: f.alertsTokenFile } : {}),
          },
        }
      : {}),
    builtinCounts: f.builtin,
  }
  return { ...common(paths, f), source }
}

/** `purplekind replay <recording> [paths…]`. */
export function replaySpecFromFlags(recording: string, paths: string[], f: ReplayFlags): RunSpec {
  return { ...common(paths, f), source: { kind: 'replay', recording } }
}

function common(paths: string[], f: ReportFlags): Omit<RunSpec, 'source'> {
  const select: SelectionFlags = {
    ...(f.only ? { only: f.only } : {}),
    ...(f.technique ? { technique: f.technique } : {}),
    ...(f.tag ? { tag: f.tag } : {}),
    ...(f.shard !== undefined ? { shard: f.shard } : {}),
  }
  const reports: ReportSpec = {
    dir: f.reports,
    ...(f.baseline !== undefined ? { baseline: f.baseline } : {}),
    strictBenign: Boolean(f.strictBenign),
    strict: Boolean(f.strict),
  }
  return {
    scenarios: { paths, select },
    rules: { paths: f.rules, macros: f.macros ?? [] },
    pipelines: f.pipeline ?? [],
    reports,
  }
}

function existingFlags(f: RunFlags): NonNullable<LabSpec['existing']> {
  if (!f.kubeconfig || !f.context)
    throw new PurpleError('PURPLE_USAGE', '--env existing needs --kubeconfig and --context', {
      hint: 'and --allow-context <context> to accept it',
    })
  if (!f.auditLog)
    throw new PurpleError('PURPLE_USAGE', '--env existing needs --audit-log <apiserver audit log file>')
  return {
    kubeconfig: f.kubeconfig,
    context: f.context,
    allowContexts: f.allowContext,
    audit: { logFile: f.auditLog },
    ...(f.iKnowThisIsNotALab ? { iKnowThisIsNotALab: true } : {}),
    ...(f.auditPolicy ? { policyFile: f.auditPolicy } : {}),
  }
}

function checkIntakeFlags(f: RunFlags): void {
  if (f.alertsToken !== undefined)
    throw new PurpleError(
      'PURPLE_USAGE',
      '--alerts-token is gone: a token on the command line is readable by every local user (/proc/<pid>/cmdline)',
      {
        hint: `use --alerts-token-file <file> (mode 0600) or ${ALERTS_TOKEN_ENV}; or let the run generate one`,
      },
    )
  if (f.alertsListen === undefined) {
    if ((f.pipeline ?? []).some((p) => p.startsWith('http'))) return
    if (f.alertsTokenFile !== undefined || !f.builtin)
      throw new PurpleError(
        'PURPLE_USAGE',
        '--alerts-token-file and --no-builtin need --alerts-listen <port>',
      )
    return
  }
  if (!/^\d{1,5}$/.test(f.alertsListen) || Number(f.alertsListen) > 65535)
    throw new PurpleError(
      'PURPLE_USAGE',
      `--alerts-listen must be a port number 0-65535, got "${f.alertsListen}"`,
    )
}

function parseStepTimeout(text: string): number {
  if (!/^\d{1,6}(\.\d{1,3})?(ms|s|m)$/.test(text) || parseDuration(text) <= 0)
    throw new PurpleError(
      'PURPLE_USAGE',
      `--step-timeout must be a duration like 30s, 2m or 500ms, got "${text}"`,
    )
  return parseDuration(text)
}
