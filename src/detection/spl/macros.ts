// Search macros: `name` or `name(a, b)` between backticks, defined in a Splunk `macros.conf`
// (`[name(2)]`, `args = a, b`, `definition = …`) or security_content-style `macros/*.yml`
// (`name`, `definition`, `arguments`). Expansion is textual, as in Splunk, with `$arg$` substitution.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { PurpleError } from '../../errors.js'
import { yaml } from '../../util/yaml.js'
import { clip, SplLexer } from './lexer.js'

export interface Macro {
  readonly name: string
  readonly args: readonly string[]
  readonly definition: string
  /** Where it was defined, for messages. */
  readonly file: string
  /** Set when the file could not be read: using the macro is then an error naming why. */
  readonly broken?: string
}

/** Macros by `name(arity)`, e.g. `kube_audit(0)`, `security_content_ctime(1)`. */
export type MacroTable = ReadonlyMap<string, Macro>

/** Deepest nesting of macros inside macros: a macro that uses itself would otherwise never end. */
export const MAX_MACRO_DEPTH = 20
/** Largest expanded search (characters): nested macros can otherwise grow exponentially. */
const MAX_EXPANDED = 1 << 20

const key = (name: string, arity: number) => `${name}(${arity})`

/** Loads macros from files or directories (`.conf` and `.yml`/`.yaml`); later definitions win. */
export function loadMacros(paths: readonly string[]): MacroTable {
  const table = new Map<string, Macro>()
  for (const path of paths) {
    const info = statSync(path, { throwIfNoEntry: false })
    if (!info) throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `macros path not found: ${path}`)
    const files = info.isDirectory()
      ? readdirSync(path)
          .sort()
          .map((f) => join(path, f))
          .filter((f) => /\.(conf|ya?ml)$/i.test(f))
      : [path]
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      const conf = extname(file).toLowerCase() === '.conf'
      let found: Macro[]
      try {
        found = conf ? parseMacrosConf(text, file) : parseMacroYaml(text, file)
      } catch (e) {
        // One bad file in a directory of hundreds should not stop searches that never use it.
        if (!info.isDirectory() || conf || !(e instanceof PurpleError)) throw e
        const name = basename(file, extname(file))
        found = [{ name, args: [], definition: '', file, broken: e.message }]
      }
      for (const m of found) table.set(key(m.name, m.args.length), m)
    }
  }
  return table
}

/** `macros.conf`: stanzas `[name]` or `[name(n)]` with `definition` and `args`; `\` continues a line. */
export function parseMacrosConf(text: string, file: string): Macro[] {
  const out: Macro[] = []
  let current: { name: string; arity: number; args: string[]; definition?: string; line: number } | undefined
  const finish = () => {
    if (current?.definition === undefined) return
    if (current.args.length !== current.arity) {
      throw macroError(
        file,
        current.line,
        `macro '${current.name}' declares ${current.arity} arguments but args lists ${current.args.length}`,
      )
    }
    out.push({ name: current.name, args: current.args, definition: current.definition, file })
  }
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string
    const first = i
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)}\n${lines[++i]}`
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const stanza = /^\[([^\]()]+?)(?:\((\d+)\))?\]$/.exec(trimmed)
    if (stanza) {
      finish()
      current = {
        name: (stanza[1] as string).trim(),
        arity: Number(stanza[2] ?? 0),
        args: [],
        line: first + 1,
      }
      continue
    }
    const kv = /^([A-Za-z_.]+)\s*=\s*([\s\S]*)$/.exec(trimmed)
    if (!kv || !current) continue
    const name = (kv[1] as string).toLowerCase()
    if (name === 'definition') current.definition = (kv[2] as string).trim()
    if (name === 'args') current.args = splitArgs(kv[2] as string)
  }
  finish()
  return out
}

/** security_content `macros/*.yml`: one macro per file. */
export function parseMacroYaml(text: string, file: string): Macro[] {
  let doc: unknown
  try {
    doc = yaml().parse(text)
  } catch (e) {
    throw macroError(file, 1, `not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  const d = doc as { name?: unknown; definition?: unknown; arguments?: unknown }
  if (typeof d?.name !== 'string' || (typeof d.definition !== 'string' && typeof d.definition !== 'number')) {
    throw macroError(file, 1, 'a macro needs a string `name` and a `definition`')
  }
  const args = Array.isArray(d.arguments) ? d.arguments.map(String) : []
  return [{ name: d.name, args, definition: String(d.definition), file }]
}

function splitArgs(s: string): string[] {
  return s
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
}

function macroError(file: string, line: number, message: string) {
  return new PurpleError('PURPLE_RULE_INVALID', `${file}:${line}: ${message}`)
}

/**
 * Expands every macro in `src`. An unknown macro, a wrong argument count or nesting deeper than
 * MAX_MACRO_DEPTH is an error at the macro's line:column in `file` (the outermost macro, for nested ones).
 */
export function expandMacros(src: string, macros: MacroTable, file: string): string {
  if (!src.includes('`')) return src
  const lexer = new SplLexer(src, file)
  return expand(src, macros, (msg, offset) => lexer.error('PURPLE_RULE_INVALID', msg, offset), 0)
}

type Fail = (message: string, offset: number) => Error

function expand(src: string, macros: MacroTable, fail: Fail, depth: number): string {
  let out = ''
  let i = 0
  let inQuote = false
  while (i < src.length) {
    const c = src[i] as string
    if (c === '\\' && inQuote) {
      out += src.slice(i, i + 2)
      i += 2
      continue
    }
    if (c === '"') inQuote = !inQuote
    if (c !== '`' || inQuote) {
      out += c
      i++
      continue
    }
    const close = src.indexOf('`', i + 1)
    if (close < 0) throw fail('an unterminated macro (missing closing backtick)', i)
    const call = src.slice(i + 1, close).trim()
    const m = /^([A-Za-z0-9_.:-]+)\s*(?:\(([\s\S]*)\))?$/.exec(call)
    if (!m) throw fail(`a malformed macro call '${clip(call)}'`, i)
    const name = m[1] as string
    const args = m[2] === undefined ? [] : splitCallArgs(m[2])
    const macro = macros.get(key(name, args.length))
    if (!macro) {
      const arities = [...macros.values()].filter((x) => x.name === name).map((x) => x.args.length)
      const why = arities.length
        ? `macro '${name}' with ${args.length} arguments (defined with ${arities.join(', ')})`
        : `unknown macro '${name}' (define it in a macros.conf or macros/*.yml passed with --macros)`
      throw fail(why, i)
    }
    if (macro.broken) throw fail(`macro '${name}' could not be loaded: ${macro.broken}`, i)
    if (depth >= MAX_MACRO_DEPTH)
      throw fail(`macros nested deeper than ${MAX_MACRO_DEPTH} (does '${name}' use itself?)`, i)
    let body = macro.definition
    macro.args.forEach((a, n) => {
      body = body.replaceAll(`$${a}$`, args[n] as string)
    })
    // Nested macros are reported at the outer call's position.
    out += expand(body, macros, (msg) => fail(`${msg}, inside macro '${name}'`, i), depth + 1)
    if (out.length > MAX_EXPANDED)
      throw fail(`a search longer than ${MAX_EXPANDED} characters after macro expansion`, i)
    i = close + 1
  }
  return out
}

// Arguments are comma-separated; commas inside double quotes or parentheses do not split.
function splitCallArgs(s: string): string[] {
  const args: string[] = []
  let depth = 0
  let quoted = false
  let cur = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string
    if (c === '\\' && quoted) {
      cur += s.slice(i, i + 2)
      i++
      continue
    }
    if (c === '"') quoted = !quoted
    else if (!quoted && c === '(') depth++
    else if (!quoted && c === ')') depth--
    if (c === ',' && !quoted && depth === 0) {
      args.push(cur.trim())
      cur = ''
    } else cur += c
  }
  args.push(cur.trim())
  return args
}
