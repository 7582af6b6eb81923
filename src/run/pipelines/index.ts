// The registry of detection pipelines: the one list of what `--pipeline <name>[=<arg>]` accepts.
import { Engine } from '../../detection/engine.js'
import type { RuleSet } from '../../detection/types.js'
import { PurpleError } from '../../errors.js'
import type { Redactor } from '../../redact/redactor.js'
import { builtinPipeline } from './builtin.js'
import { CommandPipeline, commandArgv } from './command.js'
import { httpPipeline } from './http.js'
import type { DetectionPipeline } from './pipeline.js'

export type { DetectionPipeline, PipelineHost } from './pipeline.js'

export interface PipelineContext {
  ruleSet: RuleSet
  /** false for replay: pipelines that need a live run (http) are refused. */
  live: boolean
  log: (line: string) => void
  runDir?: string
  redactor?: Redactor
  /** The http pipeline's token when the user supplied one, and where it came from (for the log). */
  alertsToken?: string
  alertsTokenSource?: string
  /** false with `--no-builtin`. */
  builtinCounts?: boolean
}

export interface PipelineDescriptor {
  readonly name: string
  /** `<arg>` as shown in help, when the pipeline takes one. */
  readonly argument?: string
  readonly summary: string
  create(arg: string | undefined, ctx: PipelineContext): DetectionPipeline
}

export const PIPELINES: readonly PipelineDescriptor[] = [
  {
    name: 'builtin',
    summary: "the harness's Sigma, SPL and Falco engines over the loaded rules",
    create: (arg, ctx) => {
      if (arg !== undefined) throw new PurpleError('PURPLE_USAGE', '--pipeline builtin takes no argument')
      return builtinPipeline(new Engine(ctx.ruleSet), { offline: !ctx.live })
    },
  },
  {
    name: 'http',
    argument: '<port>',
    summary: 'accept alerts POSTed to 127.0.0.1:<port> (Falco http_output, webhooks, generic JSON)',
    create: (arg, ctx) => {
      if (!ctx.live) throw new PurpleError('PURPLE_USAGE', 'the http pipeline needs a live run, not a replay')
      if (arg === undefined || !/^\d{1,5}$/.test(arg) || Number(arg) > 65535)
        throw new PurpleError(
          'PURPLE_USAGE',
          `--pipeline http=<port> needs a port 0-65535, got "${arg ?? ''}"`,
        )
      if (!ctx.runDir || !ctx.redactor)
        throw new PurpleError('PURPLE_INTERNAL', 'http pipeline without a run')
      return httpPipeline({
        port: Number(arg),
        ...(ctx.alertsToken
          ? { token: ctx.alertsToken, tokenSource: ctx.alertsTokenSource ?? 'supplied' }
          : {}),
        runDir: ctx.runDir,
        builtinCounts: ctx.builtinCounts ?? true,
        redactor: ctx.redactor,
        log: ctx.log,
      })
    },
  },
  {
    name: 'command',
    argument: '<program [args…]>',
    summary: 'run a program: normalized events as JSON lines on stdin, alerts as JSON lines on stdout',
    create: (arg) => new CommandPipeline({ argv: commandArgv(arg) }),
  },
]

/** `name` or `name=arg` (the argument may itself contain `=`). */
export function parsePipelineSpec(spec: string): { name: string; arg?: string } {
  const eq = spec.indexOf('=')
  const name = (eq === -1 ? spec : spec.slice(0, eq)).trim()
  if (!PIPELINES.some((p) => p.name === name))
    throw new PurpleError('PURPLE_USAGE', `unknown pipeline "${name}"`, {
      hint: `one of: ${PIPELINES.map((p) => p.name + (p.argument ? `=${p.argument}` : '')).join(', ')}`,
    })
  return eq === -1 ? { name } : { name, arg: spec.slice(eq + 1) }
}

/** The pipelines named by `--pipeline` flags, in order (each flag one instance). */
export function createPipelines(specs: readonly string[], ctx: PipelineContext): DetectionPipeline[] {
  const out = specs.map((s) => {
    const { name, arg } = parsePipelineSpec(s)
    const d = PIPELINES.find((p) => p.name === name) as PipelineDescriptor
    return d.create(arg, ctx)
  })
  // Two pipelines with one label would make their alerts indistinguishable in the report.
  const labels = out.map((p) => p.name)
  const dup = labels.find((l, i) => labels.indexOf(l) !== i)
  if (dup && dup !== 'command') throw new PurpleError('PURPLE_USAGE', `--pipeline ${dup} given twice`)
  return out
}
