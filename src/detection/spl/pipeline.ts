// An SPL search as a pipeline: the first search (with any `| search` stages right after it, AND-ed)
// runs per event through the compiled matcher and prefilter; the commands after it run over the rows
// of a window of matching events (see docs/spl.md, "Pipelines").
import type { TelemetryEvent } from '../../telemetry/event.js'
import type { SplNode } from './ast.js'
import { type CommandContext, compileCommand, type Stage } from './commands.js'
import { SplLexer } from './lexer.js'
import { compileNode } from './match.js'
import { MAX_SPL_LENGTH, parseStageAt } from './parser.js'
import { eventRow, type Row, rowAsEvent } from './rows.js'

export interface SplPipeline {
  /** The per-event part: the first search and the `| search` stages directly after it. */
  readonly base: SplNode
  /** Commands after that; empty for a plain search (one alert per matching event). */
  readonly stages: readonly Stage[]
}

/** Parses a whole search (macros already expanded). */
export function parsePipeline(src: string, file: string, ctx: CommandContext = {}): SplPipeline {
  const lx = new SplLexer(src, file)
  if (src.length > MAX_SPL_LENGTH)
    throw lx.invalid(`the search is longer than ${MAX_SPL_LENGTH} characters`, 0)
  const first = parseStageAt(lx, 0, true)
  const searches: SplNode[] = [first.node]
  const stages: Stage[] = []
  let pipe = first.end
  while (pipe < src.length) {
    const m = /^\|\s*([A-Za-z_]*)/.exec(src.slice(pipe, pipe + 64))
    const name = m?.[1] ?? ''
    const at = pipe + (m ? m[0].length - name.length : 1)
    if (name === '') throw lx.invalid('a command name is missing after |', at)
    const argsAt = pipe + (m as RegExpExecArray)[0].length
    if (name.toLowerCase() === 'search') {
      const stage = parseStageAt(lx, argsAt, false)
      if (stages.length === 0) searches.push(stage.node)
      else stages.push(searchStage(stage.node))
      pipe = stage.end
      continue
    }
    const end = commandEnd(src, argsAt, name)
    stages.push(compileCommand(lx, name, at, argsAt, end, ctx))
    pipe = end
  }
  const base = searches.length === 1 ? (searches[0] as SplNode) : { kind: 'and' as const, children: searches }
  return { base, stages }
}

function searchStage(node: SplNode): Stage {
  const match = compileNode(node)
  return (rows) => rows.filter((r) => match(rowAsEvent(r)))
}

// The next top-level `|`: pipes inside double quotes (and single quotes for eval/where) do not count.
function commandEnd(src: string, from: number, name: string): number {
  const singles = ['eval', 'where'].includes(name.toLowerCase())
  let quote = ''
  for (let i = from; i < src.length; i++) {
    const c = src[i] as string
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = ''
    } else if (c === '"' || (singles && c === "'")) quote = c
    else if (c === '|') return i
  }
  return src.length
}

/** Runs the commands over the events the base search matched: newest first, as Splunk returns them. */
export function runPipeline(p: SplPipeline, events: readonly TelemetryEvent[]): Row[] {
  let rows = [...events].sort((a, b) => b.timeMs - a.timeMs).map(eventRow)
  for (const stage of p.stages) rows = stage(rows)
  return rows
}
