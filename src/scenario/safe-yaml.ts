// Reading attacker-written YAML in bounded time and memory. Scenario files are small (the shipped ones
// are a few KB), so anything far beyond that is refused before parsing; the yaml package's own duplicate
// key check is quadratic (a 1 MiB map of unique keys took 263 s), so keys are checked here with a Set;
// nesting is bounded before and after parsing (the parser recurses per level); aliases are capped
// (billion-laughs) and unresolved ones reported, all as coded errors naming the file, never a crash.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'
import type { ErrorCode, Issue } from '../errors.js'

export const MAX_SCENARIO_BYTES = 256 * 1024
export const MAX_DEPTH = 64
/** Alias expansions allowed in one document (yaml's toJS counts nodes reached through aliases). */
export const MAX_ALIAS_COUNT = 100
/** Issues reported per file; beyond that the file is clearly not a scenario. */
export const MAX_ISSUES = 50
const MAX_MESSAGE = 300

/** Long text from a file (a key, an id, a value) shortened for a message. */
export function clip(text: string, max = MAX_MESSAGE): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text
}

function issue(file: string, path: string, message: string, code: ErrorCode): Issue {
  return { file, path: clip(path, 200), message: clip(message), code }
}

/** Deepest unquoted `[`/`{` nesting in the text (a cheap guard before the recursive parser). */
export function flowDepth(text: string): number {
  let depth = 0
  let max = 0
  let quote = ''
  let comment = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (comment) {
      if (c === '\n') comment = false
    } else if (quote) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = ''
    } else if (c === '"' || c === "'") quote = c
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) comment = true
    else if (c === '[' || c === '{') max = Math.max(max, ++depth)
    else if ((c === ']' || c === '}') && depth > 0) depth--
  }
  return max
}

export type SafeYaml =
  | { data: unknown; doc: ReturnType<typeof parseDocument>; lines: LineCounter }
  | { issues: Issue[] }

/** Parses one YAML document within the limits above; every problem is a coded issue naming `file`. */
export function parseYamlSafely(text: string, file: string): SafeYaml {
  if (text.length > MAX_SCENARIO_BYTES)
    return {
      issues: [
        issue(
          file,
          '(document)',
          `file is ${text.length} bytes; a scenario may be at most ${MAX_SCENARIO_BYTES}`,
          'PURPLE_SCENARIO_TOO_LARGE',
        ),
      ],
    }
  const depth = flowDepth(text)
  if (depth > MAX_DEPTH) return { issues: [tooDeep(file, '(document)')] }
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false })
  if (doc.errors.length) {
    return {
      issues: doc.errors.slice(0, MAX_ISSUES).map((e) => {
        const pos = e.linePos?.[0]
        const where = pos ? `line ${pos.line}` : '(document)'
        // The parser recurses per nesting level: its stack overflow is this file's depth, not a bug.
        if (/call stack/i.test(e.message)) return tooDeep(file, where)
        return issue(file, where, e.message.split('\n')[0] ?? e.message, 'PURPLE_SCENARIO_YAML')
      }),
    }
  }
  const structural = checkNodes(doc.contents, file, lines)
  if (structural.length) return { issues: structural }
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), doc, lines }
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err
    const unresolved = /unresolved alias/i.test(err.message)
    return {
      issues: [
        issue(
          file,
          '(document)',
          unresolved
            ? clip(err.message)
            : `aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT}): an alias bomb?`,
          'PURPLE_SCENARIO_ALIASES',
        ),
      ],
    }
  }
}

function tooDeep(file: string, where: string): Issue {
  return issue(file, where, `nested deeper than ${MAX_DEPTH} levels`, 'PURPLE_SCENARIO_TOO_DEEP')
}

/** Iterative walk: nesting depth, duplicate and non-scalar keys. */
function checkNodes(root: unknown, file: string, lines: LineCounter): Issue[] {
  const out: Issue[] = []
  const line = (node: unknown) => {
    const r = (node as { range?: [number] } | null)?.range
    return r ? `line ${lines.linePos(r[0]).line}` : '(document)'
  }
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }]
  while (stack.length && out.length < MAX_ISSUES) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number }
    if (depth > MAX_DEPTH) return [tooDeep(file, line(node))]
    if (isMap(node)) {
      const seen = new Set<unknown>()
      for (const pair of node.items) {
        if (isAlias(pair.key) || !(isScalar(pair.key) || pair.key === null)) {
          out.push(issue(file, line(pair.key), 'mapping keys must be plain scalars', 'PURPLE_SCENARIO_YAML'))
          continue
        }
        const key = isScalar(pair.key) ? pair.key.value : null
        if (seen.has(key))
          out.push(
            issue(file, line(pair.key), `duplicate key "${clip(String(key), 60)}"`, 'PURPLE_SCENARIO_YAML'),
          )
        seen.add(key)
        stack.push({ node: pair.value, depth: depth + 1 })
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push({ node: item, depth: depth + 1 })
    }
  }
  return out.slice(0, MAX_ISSUES)
}
