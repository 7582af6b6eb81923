// SPL subset engine: parses a `.spl` rule file once into a CompiledRule (see docs/spl.md).
import { basename, extname } from 'node:path'
import type { CompiledRule } from '../types.js'
import { nearMissOf, prefilterChoicesOf, prefilterOf, sourcesOf } from './analyze.js'
import { splIssue } from './lexer.js'
import { expandMacros, type MacroTable } from './macros.js'
import { compileNode } from './match.js'
import { parsePipeline, runPipeline } from './pipeline.js'

export { loadMacros, type MacroTable } from './macros.js'
export { parseSearch } from './parser.js'

/** What a search may use beyond itself: the user's macros and lookup tables. */
export interface SplContext {
  macros?: MacroTable
  lookupsDir?: string
}

const LEVELS = new Set(['informational', 'low', 'medium', 'high', 'critical'])

interface Header {
  title?: string
  level?: string
  tags: string[]
  /** The search text with header lines blanked, so columns and lines still match the file. */
  search: string
}

// Compiles one SPL rule file; `file` names the rule (id = base name without extension) and errors.
export function parseSpl(text: string, file: string, ctx: SplContext = {}): CompiledRule {
  const id = basename(file, extname(file))
  const header = parseHeader(text, file)
  return compileSearch(
    header.search,
    file,
    {
      id,
      title: header.title ?? id,
      ...(header.level ? { level: header.level } : {}),
      tags: header.tags,
    },
    ctx,
  )
}

/** Compiles a search (macros expanded first) with the rule's metadata. */
export function compileSearch(
  search: string,
  file: string,
  meta: { id: string; title: string; level?: string; tags: string[] },
  ctx: SplContext = {},
): CompiledRule {
  const { id } = meta
  const expanded = expandMacros(search, ctx.macros ?? new Map(), file)
  const pipeline = parsePipeline(expanded, file, ctx.lookupsDir ? { lookupsDir: ctx.lookupsDir } : {})
  const tree = pipeline.base
  const match = compileNode(tree)
  const sources = sourcesOf(tree)
  const prefilter = prefilterOf(tree)
  return {
    ...meta,
    file,
    language: 'spl',
    ...(sources ? { sources } : {}),
    ...(prefilter ? { prefilter, prefilterChoices: prefilterChoicesOf(tree) } : {}),
    match,
    ...(pipeline.stages.length
      ? {
          aggregate: (events) =>
            runPipeline(pipeline, events).map((row) => ({
              fields: Object.fromEntries([...row.fields].filter(([k]) => k !== '_raw')),
              events: [...row.events].sort((a, b) => a.timeMs - b.timeMs),
            })),
        }
      : {}),
    nearMiss: (event) => (match(event) ? undefined : nearMissOf(id, tree, event)),
  }
}

// Leading `# key: value` lines carry metadata (title, level, tags); other leading `#` lines are comments.
function parseHeader(text: string, file: string): Header {
  const lines = text.split('\n')
  const header: Header = { tags: [], search: '' }
  let i = 0
  for (; i < lines.length; i++) {
    const line = (lines[i] as string).trim()
    if (line === '') continue
    if (!line.startsWith('#')) break
    const m = /^#\s*(title|level|tags)\s*:\s*(.*)$/i.exec(line)
    if (!m) continue
    const key = (m[1] as string).toLowerCase()
    const value = (m[2] as string).trim()
    if (key === 'title') header.title = value
    if (key === 'tags') header.tags = value.split(/[\s,]+/).filter(Boolean)
    if (key === 'level') {
      if (!LEVELS.has(value)) {
        throw splIssue(
          file,
          `${i + 1}`,
          `level must be one of ${[...LEVELS].join(', ')}, got '${value.slice(0, 40)}'`,
          'PURPLE_RULE_INVALID',
        )
      }
      header.level = value
    }
  }
  header.search = lines.map((l, n) => (n < i ? ' '.repeat(l.length) : l)).join('\n')
  return header
}
