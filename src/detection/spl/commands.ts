// Pipeline commands after the first search: each compiles once into a function over the result rows.
// Streaming commands (eval, where, rename, …) map rows one by one; transforming ones (stats,
// eventstats, dedup, fillnull without a field list) need the whole window of rows.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { yaml } from '../../util/yaml.js'
import { compileRegex, RegexError } from '../linear-regex.js'
import { parseExpr, truthy } from './eval.js'
import type { SplLexer } from './lexer.js'
import { fromList, lookup, num, type Row, type Scalar, str, toValue, type Value, values } from './rows.js'

export type Stage = (rows: Row[]) => Row[]

interface Tok {
  t: 'word' | 'str' | 'eq' | 'comma' | 'lp' | 'rp'
  v: string
  at: number
}

export interface CommandContext {
  /** Directory holding lookup tables (`<name>.csv`, or security_content `<name>.yml` naming a CSV). */
  lookupsDir?: string
}

/** Compiles one command (name at `at`, arguments in `src[start, end)`). */
export function compileCommand(
  lx: SplLexer,
  name: string,
  at: number,
  start: number,
  end: number,
  ctx: CommandContext,
): Stage {
  const args = new Args(lx, tokenize(lx, start, end), end)
  switch (name.toLowerCase()) {
    case 'eval':
      return evalCommand(lx, start, end)
    case 'where': {
      const e = parseExpr(lx, start, end)
      return (rows) => rows.filter((r) => truthy(e(r)))
    }
    case 'fillnull':
      return fillnull(args)
    case 'stats':
      return stats(args, false)
    case 'eventstats':
      return stats(args, true)
    case 'rename':
      return rename(args)
    case 'table':
      return table(args)
    case 'fields':
      return fieldsCommand(args)
    case 'dedup':
      return dedup(args)
    case 'spath':
      return spath(args)
    case 'regex':
      return regexCommand(args)
    case 'lookup':
      return lookupCommand(args, ctx, at)
    case 'iplocation':
      return iplocation(args)
    case 'head':
      return head(args)
    default:
      throw lx.unsupported(`the '${name}' command`, `| ${name}`, at)
  }
}

function tokenize(lx: SplLexer, start: number, end: number): Tok[] {
  const src = lx.src
  const out: Tok[] = []
  let i = start
  while (i < end) {
    const c = src[i] as string
    if (/\s/.test(c)) {
      i++
    } else if (c === '"') {
      let v = ''
      let j = i + 1
      for (; j < end && src[j] !== '"'; j++) {
        if (src[j] === '\\' && j + 1 < end && '"\\'.includes(src[j + 1] as string)) j++
        v += src[j]
      }
      if (j >= end) throw lx.invalid('unterminated quoted string', i)
      out.push({ t: 'str', v, at: i })
      i = j + 1
    } else if (c === '=' || c === ',' || c === '(' || c === ')') {
      out.push({ t: c === '=' ? 'eq' : c === ',' ? 'comma' : c === '(' ? 'lp' : 'rp', v: c, at: i })
      i++
    } else {
      let j = i
      while (j < end && !/[\s=,()"]/.test(src[j] as string)) j++
      if (src.slice(i, j).includes('['))
        throw lx.unsupported('a subsearch', '[', i + src.slice(i, j).indexOf('['))
      out.push({ t: 'word', v: src.slice(i, j), at: i })
      i = j
    }
  }
  return out
}

/** A cursor over a command's argument tokens. */
class Args {
  i = 0
  constructor(
    readonly lx: SplLexer,
    readonly toks: Tok[],
    readonly end: number,
  ) {}
  peek(n = 0): Tok | undefined {
    return this.toks[this.i + n]
  }
  take(): Tok | undefined {
    return this.toks[this.i++]
  }
  done(): boolean {
    return this.i >= this.toks.length
  }
  at(): number {
    return this.peek()?.at ?? this.end
  }
  isWord(w: string): boolean {
    const t = this.peek()
    return t !== undefined && (t.t === 'word' || t.t === 'str') && t.v.toLowerCase() === w
  }
  /** A field or value: a word or a quoted string. */
  name(what = 'a field name'): string {
    const t = this.take()
    if (!t || (t.t !== 'word' && t.t !== 'str'))
      throw this.lx.invalid(`${what} is missing`, t?.at ?? this.end)
    return t.v
  }
  /** `key=value` options at the current position (before the field list), lower-cased keys. */
  options(known: readonly string[]): Map<string, string> {
    const out = new Map<string, string>()
    while (this.peek(1)?.t === 'eq' && this.peek()?.t === 'word') {
      const k = (this.peek() as Tok).v.toLowerCase()
      if (!known.includes(k)) throw this.lx.unsupported(`the option '${k}'`, k, this.at())
      this.i += 2
      out.set(k, this.name(`a value for ${k}`))
    }
    return out
  }
  comma(): void {
    if (this.peek()?.t === 'comma') this.i++
  }
  unexpected(): Error {
    const t = this.peek()
    return this.lx.invalid(`unexpected '${t?.v ?? ''}'`, this.at())
  }
}

function evalCommand(lx: SplLexer, start: number, end: number): Stage {
  // `eval a=expr, b=expr`: split at top-level commas outside quotes and parentheses.
  const parts: { field: string; expr: (r: Row) => unknown }[] = []
  const src = lx.src
  let i = start
  while (i < end) {
    let depth = 0
    let quote = ''
    let j = i
    for (; j < end; j++) {
      const c = src[j] as string
      if (quote) {
        if (c === '\\') j++
        else if (c === quote) quote = ''
      } else if (c === '"' || c === "'") quote = c
      else if (c === '(') depth++
      else if (c === ')') depth--
      else if (c === ',' && depth === 0) break
    }
    const m = /^\s*("[^"]+"|'[^']+'|[^\s=]+)\s*=(?!=)/.exec(src.slice(i, j))
    if (!m) throw lx.invalid('eval needs field=expression', i)
    const field = (m[1] as string).replace(/^["']|["']$/g, '')
    parts.push({ field, expr: parseExpr(lx, i + m[0].length, j) })
    i = j + 1
  }
  if (parts.length === 0) throw lx.invalid('eval needs field=expression', start)
  return (rows) =>
    rows.map((row) => {
      for (const p of parts) {
        const v = p.expr(row)
        row.fields.set(p.field, typeof v === 'boolean' ? String(v) : (v as Value))
      }
      return row
    })
}

function fillnull(a: Args): Stage {
  const opts = a.options(['value'])
  const value = opts.get('value') ?? '0'
  const fields: string[] = []
  while (!a.done()) {
    fields.push(a.name())
    a.comma()
  }
  return (rows) => {
    // Without a list, every field any row has (Splunk fills the fields of the whole result set).
    const names = fields.length ? fields : [...new Set(rows.flatMap((r) => [...r.fields.keys()]))]
    for (const row of rows)
      for (const f of names) if (lookup(row, f) === null || lookup(row, f) === '') row.fields.set(f, value)
    return rows
  }
}

interface Aggregate {
  fn: string
  field?: string
  as: string
}

const AGGREGATES = new Set([
  'count',
  'c',
  'dc',
  'distinct_count',
  'estdc',
  'values',
  'list',
  'min',
  'max',
  'earliest',
  'latest',
  'first',
  'last',
  'sum',
  'avg',
  'mean',
  'range',
])

function stats(a: Args, keepRows: boolean): Stage {
  a.options(['allnum', 'delim', 'partitions'])
  const aggs: Aggregate[] = []
  while (!a.done() && !a.isWord('by')) {
    const t = a.take() as Tok
    const fn = t.v.toLowerCase()
    if (!AGGREGATES.has(fn)) throw a.lx.unsupported(`the stats function '${t.v}'`, t.v, t.at)
    let field: string | undefined
    if (a.peek()?.t === 'lp') {
      a.take()
      field = a.name()
      if (a.take()?.t !== 'rp') throw a.lx.invalid("missing ')'", a.at())
    } else if (fn !== 'count' && fn !== 'c') throw a.lx.invalid(`${t.v} needs a field: ${t.v}(field)`, t.at)
    let as = field === undefined ? fn : `${fn}(${field})`
    if (a.isWord('as')) {
      a.take()
      as = a.name()
    }
    aggs.push({ fn, ...(field !== undefined ? { field } : {}), as })
    a.comma()
  }
  if (aggs.length === 0) throw a.lx.invalid('stats needs a function, e.g. count', a.at())
  const by: string[] = []
  if (a.isWord('by')) {
    a.take()
    while (!a.done()) {
      by.push(a.name())
      a.comma()
    }
    if (by.length === 0) throw a.lx.invalid('a field is missing after by', a.at())
  }
  return (rows) => {
    // Group: a row joins one group per combination of its by-values (multivalues split, as in Splunk);
    // a row without some by-field joins none.
    const groups = new Map<string, { key: Scalar[]; rows: Row[] }>()
    const membership = new Map<Row, string[]>()
    for (const row of rows) {
      let combos: Scalar[][] = [[]]
      for (const f of by) {
        const vs = values(lookup(row, f))
        combos = combos.flatMap((c) => vs.map((v) => [...c, v]))
      }
      const keys: string[] = []
      for (const combo of combos) {
        const k = JSON.stringify(combo.map(str))
        let g = groups.get(k)
        if (!g) {
          g = { key: combo, rows: [] }
          groups.set(k, g)
        }
        g.rows.push(row)
        keys.push(k)
      }
      membership.set(row, keys)
    }
    if (by.length === 0 && groups.size === 0) groups.set('[]', { key: [], rows: [] })
    const results = new Map<string, Map<string, Value>>()
    for (const [k, g] of groups) {
      const out = new Map<string, Value>()
      for (const agg of aggs) out.set(agg.as, aggregate(agg, g.rows))
      results.set(k, out)
    }
    if (keepRows) {
      for (const row of rows)
        for (const k of membership.get(row) ?? [])
          for (const [f, v] of results.get(k) ?? []) row.fields.set(f, v)
      return rows
    }
    const sorted = [...groups.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    return sorted.map(([k, g]) => {
      const fields = new Map<string, Value>()
      for (const [n, f] of by.entries()) fields.set(f, g.key[n] as Scalar)
      for (const [f, v] of results.get(k) ?? []) fields.set(f, v)
      const events = [...new Set(g.rows.flatMap((r) => r.events))]
      return { fields, events, timeMs: Math.max(0, ...g.rows.map((r) => r.timeMs)) }
    })
  }
}

function aggregate(agg: Aggregate, rows: Row[]): Value {
  const f = agg.field
  const vals = f === undefined ? [] : rows.flatMap((r) => values(lookup(r, f)))
  const nums = vals.map(num).filter((n): n is number => n !== undefined)
  switch (agg.fn) {
    case 'count':
    case 'c':
      return f === undefined ? rows.length : rows.filter((r) => lookup(r, f) !== null).length
    case 'dc':
    case 'distinct_count':
    case 'estdc':
      return new Set(vals.map(str)).size
    case 'values':
      return fromList([...new Set(vals.map(str))].sort())
    case 'list':
      return fromList(vals.slice(0, 100))
    case 'min':
    case 'max': {
      if (vals.length === 0) return null
      const sign = agg.fn === 'min' ? 1 : -1
      if (nums.length === vals.length) return sign > 0 ? Math.min(...nums) : Math.max(...nums)
      return [...vals.map(str)].sort((x, y) => sign * (x < y ? -1 : x > y ? 1 : 0))[0] as string
    }
    case 'sum':
      return nums.length ? nums.reduce((x, y) => x + y, 0) : null
    case 'avg':
    case 'mean':
      return nums.length ? nums.reduce((x, y) => x + y, 0) / nums.length : null
    case 'range':
      return nums.length ? Math.max(...nums) - Math.min(...nums) : null
    default: {
      // earliest/latest by time; first/last in result order (newest first, as Splunk returns events).
      const having = rows.filter((r) => lookup(r, f as string) !== null)
      if (having.length === 0) return null
      const byTime = [...having].sort((x, y) => x.timeMs - y.timeMs)
      const pick =
        agg.fn === 'earliest'
          ? byTime[0]
          : agg.fn === 'latest'
            ? byTime[byTime.length - 1]
            : agg.fn === 'first'
              ? having[0]
              : having[having.length - 1]
      return lookup(pick as Row, f as string)
    }
  }
}

// `a as b`, with `*` wildcards carried over (`user.* as u_*`).
function rename(a: Args): Stage {
  const pairs: [string, string][] = []
  while (!a.done()) {
    const from = a.name()
    if (!a.isWord('as')) throw a.lx.invalid("rename needs 'old AS new'", a.at())
    a.take()
    pairs.push([from, a.name()])
    a.comma()
  }
  if (pairs.length === 0) throw a.lx.invalid('rename needs a field', a.at())
  return (rows) => {
    for (const row of rows)
      for (const [from, to] of pairs) {
        for (const [name, target] of renames(row, from, to)) {
          const v = row.fields.get(name) ?? null
          row.fields.delete(name)
          row.fields.set(target, v)
        }
      }
    return rows
  }
}

function renames(row: Row, from: string, to: string): [string, string][] {
  if (!from.includes('*')) return row.fields.has(from) ? [[from, to]] : []
  const [head, tail] = [from.slice(0, from.indexOf('*')), from.slice(from.indexOf('*') + 1)]
  const out: [string, string][] = []
  for (const name of row.fields.keys()) {
    if (name.length < head.length + tail.length || !name.startsWith(head) || !name.endsWith(tail)) continue
    const middle = name.slice(head.length, name.length - tail.length)
    out.push([name, to.replace('*', middle)])
  }
  return out
}

function fieldList(a: Args): string[] {
  const out: string[] = []
  while (!a.done()) {
    out.push(a.name())
    a.comma()
  }
  return out
}

function globTest(pattern: string): (s: string) => boolean {
  if (!pattern.includes('*')) return (s) => s === pattern
  const parts = pattern.split('*')
  return (s) => {
    let pos = 0
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k] as string
      if (k === 0) {
        if (!s.startsWith(p)) return false
        pos = p.length
      } else if (k === parts.length - 1) return s.length - p.length >= pos && s.endsWith(p)
      else {
        const found = s.indexOf(p, pos)
        if (found < 0) return false
        pos = found + p.length
      }
    }
    return true
  }
}

function table(a: Args): Stage {
  const list = fieldList(a)
  if (list.length === 0) throw a.lx.invalid('table needs fields', a.at())
  return (rows) => rows.map((row) => ({ ...row, fields: select(row, list) }))
}

function select(row: Row, list: string[]): Map<string, Value> {
  const fields = new Map<string, Value>()
  for (const pattern of list) {
    const test = globTest(pattern)
    if (!pattern.includes('*')) fields.set(pattern, lookup(row, pattern))
    else for (const [k, v] of row.fields) if (test(k)) fields.set(k, v)
  }
  return fields
}

function fieldsCommand(a: Args): Stage {
  let remove = false
  if (a.peek()?.v === '-' || a.peek()?.v === '+') remove = (a.take() as Tok).v === '-'
  const list = fieldList(a)
  if (list.length === 0) throw a.lx.invalid('fields needs fields', a.at())
  if (!remove) return (rows) => rows.map((row) => ({ ...row, fields: select(row, list) }))
  const tests = list.map(globTest)
  return (rows) =>
    rows.map((row) => ({
      ...row,
      fields: new Map([...row.fields].filter(([k]) => !tests.some((t) => t(k)))),
    }))
}

function dedup(a: Args): Stage {
  let keep = 1
  if (a.peek()?.t === 'word' && /^\d+$/.test((a.peek() as Tok).v)) keep = Number((a.take() as Tok).v)
  const fields: string[] = []
  let keepEmpty = false
  let consecutive = false
  while (!a.done()) {
    if (a.peek(1)?.t === 'eq') {
      const opts = a.options(['keepempty', 'consecutive', 'keepevents'])
      keepEmpty = opts.get('keepempty') === 'true' || keepEmpty
      consecutive = opts.get('consecutive') === 'true' || consecutive
      continue
    }
    if (a.isWord('sortby')) throw a.lx.unsupported('dedup sortby', 'sortby', a.at())
    fields.push(a.name())
    a.comma()
  }
  if (fields.length === 0) throw a.lx.invalid('dedup needs fields', a.at())
  return (rows) => {
    const seen = new Map<string, number>()
    let last: string | undefined
    return rows.filter((row) => {
      const vs = fields.map((f) => lookup(row, f))
      if (vs.some((v) => v === null)) return keepEmpty
      const k = JSON.stringify(vs)
      if (consecutive) {
        const dup = k === last
        last = k
        return !dup
      }
      const n = (seen.get(k) ?? 0) + 1
      seen.set(k, n)
      return n <= keep
    })
  }
}

function spath(a: Args): Stage {
  let input = '_raw'
  let output: string | undefined
  let path: string | undefined
  while (!a.done()) {
    if (a.peek(1)?.t === 'eq') {
      const opts = a.options(['input', 'output', 'path'])
      input = opts.get('input') ?? input
      output = opts.get('output') ?? output
      path = opts.get('path') ?? path
    } else path = a.name('a path')
  }
  return (rows) => {
    for (const row of rows) {
      const text = lookup(row, input)
      const doc = typeof text === 'string' ? parseJson(text) : undefined
      if (doc === undefined) continue
      if (path === undefined) {
        const flat = new Map<string, Value>()
        flattenInto(doc, '', flat)
        for (const [k, v] of flat) row.fields.set(k, v)
      } else row.fields.set(output ?? path, toValue(atPath(doc, path)))
    }
    return rows
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function flattenInto(v: unknown, prefix: string, out: Map<string, Value>, depth = 0): void {
  if (depth > 32) return
  if (Array.isArray(v)) for (const x of v) flattenInto(x, `${prefix}{}`, out, depth + 1)
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) flattenInto(x, prefix ? `${prefix}.${k}` : k, out, depth + 1)
  else if (prefix) {
    const s = toValue(v)
    if (s === null || Array.isArray(s)) return
    const prev = out.get(prefix)
    out.set(prefix, prev === undefined || prev === null ? s : [...values(prev), s])
  }
}

/** `a.b{}.c`, `a{0}.b` (0-based in spath? Splunk is 1-based: `{1}` is the first element). */
function atPath(doc: unknown, path: string): unknown {
  let cur: unknown[] = [doc]
  for (const part of path.split('.')) {
    const m = /^([^{}]*)((?:\{\d*\})*)$/.exec(part)
    if (!m) return undefined
    const next: unknown[] = []
    for (const c of cur) {
      let v = m[1]
        ? c !== null && typeof c === 'object' && !Array.isArray(c)
          ? (c as Record<string, unknown>)[m[1]]
          : undefined
        : c
      let vs: unknown[] = v === undefined ? [] : [v]
      for (const idx of (m[2] as string).match(/\{\d*\}/g) ?? []) {
        const n = idx.slice(1, -1)
        vs = vs.flatMap((x) =>
          Array.isArray(x) ? (n === '' ? x : x[Number(n) - 1] === undefined ? [] : [x[Number(n) - 1]]) : [],
        )
      }
      v = undefined
      next.push(...vs)
    }
    cur = next
  }
  return cur.length === 0 ? undefined : cur.length === 1 ? cur[0] : cur
}

function regexCommand(a: Args): Stage {
  let field = '_raw'
  let negate = false
  const first = a.peek()
  if (first?.t === 'word' && a.peek(1)?.t === 'eq') {
    negate = first.v.endsWith('!')
    field = negate ? first.v.slice(0, -1) : first.v
    a.i += 2
  }
  const at = a.at()
  const pattern = a.name('a regular expression')
  if (!a.done()) throw a.unexpected()
  const re = linear(a.lx, pattern, at)
  return (rows) => rows.filter((row) => values(lookup(row, field)).some((v) => re.test(str(v))) !== negate)
}

function linear(lx: SplLexer, pattern: string, at: number) {
  try {
    return compileRegex(pattern)
  } catch (e) {
    if (e instanceof RegexError) throw lx.unsupported(`this regular expression (${e.message})`, pattern, at)
    throw e
  }
}

/** `lookup name field [AS local] … [OUTPUT|OUTPUTNEW out [AS local], …]` over a CSV table. */
function lookupCommand(a: Args, ctx: CommandContext, at: number): Stage {
  a.options(['local', 'update', 'event_time_field'])
  const name = a.name('a lookup table name')
  const inputs: [string, string][] = []
  const outputs: [string, string][] = []
  let mode: 'output' | 'outputnew' | undefined
  while (!a.done()) {
    if (a.isWord('output') || a.isWord('outputnew')) {
      mode = (a.take() as Tok).v.toLowerCase() as 'output' | 'outputnew'
      continue
    }
    const col = a.name()
    let local = col
    if (a.isWord('as')) {
      a.take()
      local = a.name()
    }
    ;(mode ? outputs : inputs).push([col, local])
    a.comma()
  }
  if (inputs.length === 0) throw a.lx.invalid('lookup needs an input field', a.at())
  const table = readLookup(a.lx, name, ctx, at)
  const outCols = outputs.length
    ? outputs
    : table.header.filter((h) => !inputs.some(([c]) => c === h)).map((h): [string, string] => [h, h])
  for (const [col] of [...inputs, ...outCols])
    if (!table.header.includes(col)) throw a.lx.invalid(`lookup '${name}' has no column '${col}'`, at)
  const index = new Map<string, Record<string, string>[]>()
  for (const r of table.rows) {
    const k = JSON.stringify(inputs.map(([c]) => (r[c] ?? '').toLowerCase()))
    index.set(k, [...(index.get(k) ?? []), r])
  }
  return (rows) => {
    for (const row of rows) {
      // Case-insensitive match on every input field; a multivalue input matches per value.
      let combos: string[][] = [[]]
      for (const [, local] of inputs)
        combos = combos.flatMap((c) => values(lookup(row, local)).map((v) => [...c, str(v).toLowerCase()]))
      const hits = combos.flatMap((c) => index.get(JSON.stringify(c)) ?? [])
      for (const [col, local] of outCols) {
        if (mode === 'outputnew' && lookup(row, local) !== null) continue
        row.fields.set(local, fromList([...new Set(hits.map((h) => h[col] ?? '').filter((v) => v !== ''))]))
      }
    }
    return rows
  }
}

interface Table {
  header: string[]
  rows: Record<string, string>[]
}

const MAX_LOOKUP_BYTES = 64 << 20

function readLookup(lx: SplLexer, name: string, ctx: CommandContext, at: number): Table {
  if (!ctx.lookupsDir)
    throw lx.invalid(`lookup '${name}' needs a lookups directory (next to --macros: <dir>/lookups)`, at)
  if (/[/\\]|^\.\.?$/.test(name)) throw lx.invalid(`lookup name '${name}' must be a plain name`, at)
  let file = join(ctx.lookupsDir, name.endsWith('.csv') ? name : `${name}.csv`)
  const yml = join(ctx.lookupsDir, `${name}.yml`)
  if (!existsSync(file) && existsSync(yml)) {
    const doc = yaml().parse(readFileSync(yml, 'utf8')) as { filename?: unknown }
    if (typeof doc?.filename === 'string' && !/[/\\]/.test(doc.filename))
      file = join(ctx.lookupsDir, doc.filename)
  }
  if (!existsSync(file)) throw lx.invalid(`lookup table '${name}' not found in ${ctx.lookupsDir}`, at)
  const text = readFileSync(file, 'utf8')
  if (text.length > MAX_LOOKUP_BYTES) throw lx.invalid(`lookup table ${file} is larger than 64 MiB`, at)
  const [header = [], ...body] = parseCsv(text)
  return { header, rows: body.map((cells) => Object.fromEntries(header.map((h, n) => [h, cells[n] ?? '']))) }
}

/** RFC 4180 CSV: quoted cells with `""` escapes and embedded newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(cell)
      if (row.length > 1 || row[0] !== '') rows.push(row)
      row = []
      cell = ''
    } else cell += c
  }
  row.push(cell)
  if (row.length > 1 || row[0] !== '') rows.push(row)
  return rows
}

/**
 * `iplocation field`: there is no GeoIP database here, so no address gets City/Country/Region/lat/lon —
 * the result Splunk gives for private and loopback addresses (all a lab produces). Documented, not faked.
 */
function iplocation(a: Args): Stage {
  a.options(['prefix', 'allfields', 'lang'])
  a.name()
  if (!a.done()) throw a.unexpected()
  return (rows) => rows
}

function head(a: Args): Stage {
  const t = a.peek()
  const n = t && /^\d+$/.test(t.v) ? Number(a.take()?.v) : 10
  if (!a.done()) throw a.unexpected()
  return (rows) => rows.slice(0, n)
}

export type { Value }
