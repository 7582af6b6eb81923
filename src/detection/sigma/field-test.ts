// One `field|modifiers: value(s)` entry of a selection, compiled into a closure over the per-event
// field cache (see fields.ts). Modifier semantics follow the Sigma modifiers appendix v2.1.
import { compileRegex, RegexError } from '../linear-regex.js'
import type { FieldVeto } from '../types.js'
import { cidrPredicate, parseCidr } from './cidr.js'
import {
  base64,
  base64Offsets,
  type Encodable,
  MAX_WINDASH_FLAGS,
  utf16be,
  utf16bom,
  utf16le,
  windash,
} from './encode.js'
import { fieldId, fieldValue, lowerArray, lowerValue, RAW_TEXT } from './fields.js'
import { type Issues, isScalar, suggest } from './issues.js'
import {
  anyOf,
  type Glob,
  literalGlob,
  type MatchType,
  mapGlob,
  parseGlob,
  type StrPred,
  showValue,
  withMatchType,
} from './values.js'

export interface FieldTest {
  /** Field name as written (`(keywords)` for keyword searches). */
  readonly field: string
  /** Human-readable expectation, e.g. `contains '169.254.169.254'`. */
  readonly expected: string
  /** Lower-case literals of which one must occur in the raw line when the test passes; undefined = unknown. */
  readonly literals: readonly string[] | undefined
  /** Relative evaluation cost, so cheap tests run first. */
  readonly cost: number
  /** When set, the test passes whenever the field holds such a string (see FieldVeto). */
  readonly veto?: FieldVeto
  test(): boolean
  actual(): unknown
}

const MATCH_TYPES = new Set(['contains', 'startswith', 'endswith'])
const NUMERIC = new Set(['lt', 'lte', 'gt', 'gte'])
const ENCODINGS = new Set(['base64', 'base64offset'])
const WIDE = new Set(['utf16le', 'utf16be', 'utf16', 'wide'])
const RE_FLAGS = new Set(['i', 'm', 's'])
const SUPPORTED = new Set([
  ...MATCH_TYPES,
  ...NUMERIC,
  ...ENCODINGS,
  ...WIDE,
  'all',
  'cased',
  'exists',
  'neq',
  're',
  'cidr',
  'windash',
  'fieldref',
])
const UNSUPPORTED: Record<string, string> = {
  expand: 'placeholders need a processing pipeline',
  minute: 'time modifiers are not supported',
  hour: 'time modifiers are not supported',
  day: 'time modifiers are not supported',
  week: 'time modifiers are not supported',
  month: 'time modifiers are not supported',
  year: 'time modifiers are not supported',
}

/**
 * Fields whose values may not be the raw JSON text (derived/alias fields and envelope fields), so a
 * literal found in them says nothing about the raw line. Keep in sync with the normalizers.
 */
export const PREFILTER_UNSAFE_FIELDS: ReadonlySet<string> = new Set([
  'Command',
  'action',
  'container_name',
  'user',
  'image',
  'container',
  'exec.argv',
  'exec.cmdline',
  'source',
  'sourcetype',
  'index',
  '_time',
])
/** Characters no JSON encoder escapes (`/` is left out: some write `\/`; `&<>` are escaped by Go). */
const NEVER_ESCAPED_RUN = /[A-Za-z0-9 ._:@=,+-]+/g
const MIN_LITERAL = 3
/** Text that could be a bare JSON number, `true`, `false` or `null` (written without quotes). */
const JSON_BARE = /^[-+.0-9eEtrufalsn]*$/i
/** Longest value accepted: real values are short, and encodings multiply a value's size. */
export const MAX_VALUE_LENGTH = 1 << 16

interface Modifiers {
  matchType: MatchType
  names: string[]
  has(name: string): boolean
  reFlags: string
}

/** Compiles one selection entry; returns undefined (after recording issues) when it is invalid. */
export function compileFieldTest(
  key: string,
  raw: unknown,
  path: string,
  issues: Issues,
): FieldTest | undefined {
  const [field = '', ...mods] = key.split('|')
  const values = Array.isArray(raw) ? raw : [raw]
  const before = issues.list.length
  const modifiers = parseModifiers(mods, path, issues)
  if (values.length === 0) issues.add(path, 'empty list of values')
  values.forEach((v, i) => {
    if (typeof v === 'string' && v.length > MAX_VALUE_LENGTH) {
      issues.add(
        Array.isArray(raw) ? `${path}[${i}]` : path,
        `value longer than ${MAX_VALUE_LENGTH} characters`,
      )
    } else if (!isScalar(v))
      issues.add(
        Array.isArray(raw) ? `${path}[${i}]` : path,
        'value must be a string, number, boolean or null (nested maps are not supported: use a dotted field name)',
      )
  })
  if (!modifiers || issues.list.length > before) return undefined
  if (modifiers.has('all') && !Array.isArray(raw)) {
    issues.add(path, "'all' needs a list of values")
    return undefined
  }
  const ctx: Ctx = { field, keyword: field === '', values: values as Scalar[], mods: modifiers, path, issues }
  const test = build(ctx)
  if (!test || issues.list.length > before) return undefined
  return test
}

type Scalar = string | number | boolean | null

interface Ctx {
  field: string
  keyword: boolean
  values: Scalar[]
  mods: Modifiers
  path: string
  issues: Issues
}

function parseModifiers(mods: string[], path: string, issues: Issues): Modifiers | undefined {
  const names: string[] = []
  let reFlags = ''
  let ok = true
  for (const raw of mods) {
    const m = raw.toLowerCase()
    if (RE_FLAGS.has(m) && names.includes('re')) reFlags += m
    else if (SUPPORTED.has(m)) names.push(m)
    else {
      ok = false
      const why = UNSUPPORTED[m]
      if (why) issues.add(path, `modifier '${raw}' is not supported (${why})`)
      else {
        const hint = suggest(m, SUPPORTED)
        issues.add(path, `unknown modifier '${raw}'${hint ? ` (did you mean '${hint}'?)` : ''}`)
      }
    }
    if (names.filter((n) => n === m).length > 1) {
      ok = false
      issues.add(path, `modifier '${m}' given twice`)
    }
  }
  const matchTypes = names.filter((n) => MATCH_TYPES.has(n))
  const exclusive = names.filter((n) => NUMERIC.has(n) || n === 're' || n === 'cidr' || n === 'exists')
  if (matchTypes.length > 1) issues.add(path, `conflicting modifiers '${matchTypes.join("' and '")}'`)
  else if (exclusive.length > 1 || (exclusive.length === 1 && matchTypes.length === 1)) {
    issues.add(
      path,
      `modifier '${exclusive[0]}' cannot be combined with '${[...exclusive.slice(1), ...matchTypes][0]}'`,
    )
  } else if (names.some((n) => WIDE.has(n)) && !names.some((n) => ENCODINGS.has(n))) {
    issues.add(path, 'utf16le/utf16be/utf16/wide are only supported before base64 or base64offset')
  } else if (names.filter((n) => ENCODINGS.has(n)).length > 1) {
    issues.add(path, "use either 'base64' or 'base64offset'")
  } else if (ok) {
    const set = new Set(names)
    return {
      matchType: (matchTypes[0] as MatchType | undefined) ?? 'equals',
      names,
      has: (n) => set.has(n),
      reFlags,
    }
  }
  return undefined
}

function build(ctx: Ctx): FieldTest | undefined {
  const { mods } = ctx
  const base = mods.has('exists')
    ? existsTest(ctx)
    : NUMERIC.has(mods.names.find((n) => NUMERIC.has(n)) ?? '')
      ? numericTest(ctx)
      : mods.has('fieldref')
        ? fieldrefTest(ctx)
        : stringTest(ctx)
  if (!base || !mods.has('neq')) return base
  return {
    ...base,
    expected: `not ${base.expected}`,
    literals: undefined,
    veto: undefined,
    test: () => !base.test(),
  }
}

function describe(ctx: Ctx): string {
  const shown = ctx.values.map(showValue).join(ctx.mods.has('all') ? ' and ' : ' or ')
  const mods = ctx.mods.names.filter((n) => n !== 'all' && n !== 'neq')
  if (ctx.mods.reFlags) mods.push(ctx.mods.reFlags)
  return mods.length ? `${mods.join('|')} ${shown}` : shown
}

function makeTest(
  ctx: Ctx,
  id: number,
  test: () => boolean,
  cost: number,
  literals?: string[],
  veto?: FieldVeto,
): FieldTest {
  return {
    field: ctx.keyword ? '(keywords)' : ctx.field,
    expected: describe(ctx),
    literals,
    cost,
    veto,
    test,
    actual: () => (ctx.keyword ? '(raw event text)' : fieldValue(id)),
  }
}

function fieldSlot(ctx: Ctx): number {
  return fieldId(ctx.keyword ? RAW_TEXT : ctx.field)
}

function existsTest(ctx: Ctx): FieldTest | undefined {
  const want = ctx.values[0]
  if (ctx.values.length !== 1 || typeof want !== 'boolean' || ctx.mods.names.length > 1 || ctx.keyword) {
    ctx.issues.add(ctx.path, "'exists' takes a single true or false and no other modifier")
    return undefined
  }
  const id = fieldSlot(ctx)
  return makeTest(ctx, id, () => (fieldValue(id) !== undefined) === want, 1)
}

function numericTest(ctx: Ctx): FieldTest | undefined {
  const op = ctx.mods.names.find((n) => NUMERIC.has(n))!
  const bounds = ctx.values.map(Number)
  if (ctx.values.some((v) => v === null || v === '' || typeof v === 'boolean') || bounds.some(Number.isNaN)) {
    ctx.issues.add(ctx.path, `'${op}' needs numeric values`)
    return undefined
  }
  const cmp = (n: number, b: number): boolean =>
    op === 'lt' ? n < b : op === 'lte' ? n <= b : op === 'gt' ? n > b : n >= b
  const all = ctx.mods.has('all')
  const pred = (n: number): boolean => (all ? bounds.every((b) => cmp(n, b)) : bounds.some((b) => cmp(n, b)))
  const elem = (v: unknown): boolean => {
    if (typeof v === 'number') return pred(v)
    if (typeof v === 'string') return v.trim() !== '' && !Number.isNaN(Number(v)) && pred(Number(v))
    return Array.isArray(v) && v.some(elem)
  }
  const id = fieldSlot(ctx)
  return makeTest(ctx, id, () => elem(fieldValue(id)), 2)
}

function fieldrefTest(ctx: Ctx): FieldTest | undefined {
  if (ctx.values.some((v) => typeof v !== 'string') || ctx.keyword) {
    ctx.issues.add(ctx.path, "'fieldref' needs field names as values")
    return undefined
  }
  const allowed = new Set(['fieldref', 'all', 'neq', 'cased', ...MATCH_TYPES])
  const other = ctx.mods.names.find((n) => !allowed.has(n))
  if (other) {
    ctx.issues.add(ctx.path, `'fieldref' cannot be combined with '${other}'`)
    return undefined
  }
  const cased = ctx.mods.has('cased')
  const type = ctx.mods.matchType
  const norm = (v: unknown): string[] => {
    if (Array.isArray(v)) return v.flatMap(norm)
    if (v === undefined || v === null || typeof v === 'object') return []
    return [cased ? String(v) : String(v).toLowerCase()]
  }
  const compare = (h: string, n: string): boolean =>
    type === 'contains'
      ? h.includes(n)
      : type === 'startswith'
        ? h.startsWith(n)
        : type === 'endswith'
          ? h.endsWith(n)
          : h === n
  const id = fieldSlot(ctx)
  const refs = ctx.values.map((v) => fieldId(v as string))
  const one = (ref: number): boolean => {
    const needles = norm(fieldValue(ref))
    return norm(fieldValue(id)).some((h) => needles.some((n) => compare(h, n)))
  }
  const all = ctx.mods.has('all')
  return makeTest(ctx, id, () => (all ? refs.every(one) : refs.some(one)), 3)
}

/** Plain, wildcard, re, cidr and encoded string matching. */
function stringTest(ctx: Ctx): FieldTest | undefined {
  const { mods } = ctx
  const id = fieldSlot(ctx)
  const nullOk = ctx.values.includes(null)
  const strings = ctx.values.filter((v) => v !== null).map(String)
  if (mods.has('re') || mods.has('cidr')) {
    const preds = strings.map((s) => (mods.has('re') ? regexPred(s, ctx) : cidrPred(s, ctx)))
    if (preds.includes(undefined)) return undefined
    const test = combine(ctx, id, preds as StrPred[], false, nullOk)
    const veto = fieldVeto(ctx, preds as StrPred[], false)
    return makeTest(ctx, id, test, mods.has('re') ? 6 : 4, undefined, veto)
  }
  const encoded = mods.has('base64') || mods.has('base64offset')
  // Base64 text is case-significant, so encoded values are always compared case-sensitively.
  const cased = mods.has('cased') || encoded
  const matchType = ctx.keyword && mods.matchType === 'equals' ? 'contains' : mods.matchType
  const globsPerValue = strings.map((s) => {
    const globs = expandValue(s, ctx).map((g) => withMatchType(g, matchType))
    return cased ? globs : globs.map((g) => mapGlob(g, (p) => p.toLowerCase()))
  })
  const preds = mods.has('all') ? globsPerValue.map(anyOf) : [anyOf(globsPerValue.flat())]
  const test = combine(ctx, id, preds, !cased, nullOk)
  const simple = !encoded && !mods.has('windash') && !mods.has('neq') && !nullOk && !ctx.keyword
  const literals =
    simple && !PREFILTER_UNSAFE_FIELDS.has(ctx.field) ? prefilterLiterals(ctx, globsPerValue) : undefined
  const cost =
    matchType === 'equals' && !globsPerValue.flat().some((g) => g.wildcards.length) ? 1 : ctx.keyword ? 10 : 2
  return makeTest(ctx, id, test, cost, literals, fieldVeto(ctx, preds, !cased))
}

/**
 * The test as a FieldVeto: the same predicate over one string value that `combine` applies (a string
 * value passing it makes the test pass, and so does an array holding one). Not for keyword searches
 * or for fields that are not read from the raw event.
 */
function fieldVeto(ctx: Ctx, preds: readonly StrPred[], lower: boolean): FieldVeto | undefined {
  if (ctx.keyword || PREFILTER_UNSAFE_FIELDS.has(ctx.field)) return undefined
  return { field: ctx.field, lower, test: valuePred(ctx, preds) }
}

/** The glob(s) one rule value stands for after windash / utf16 / base64 transformations. */
function expandValue(s: string, ctx: Ctx): Glob[] {
  const { mods } = ctx
  const variants = mods.has('windash') ? windash(s) : [s]
  if (!variants) {
    ctx.issues.add(ctx.path, `'windash' value has more than ${MAX_WINDASH_FLAGS} flags`)
    return []
  }
  if (!mods.has('base64') && !mods.has('base64offset')) return variants.map(parseGlob)
  const wide = mods.names.find((n) => WIDE.has(n))
  const bytes: Encodable[] = variants.map((v) =>
    wide === 'utf16le' || wide === 'wide'
      ? utf16le(v)
      : wide === 'utf16be'
        ? utf16be(v)
        : wide === 'utf16'
          ? utf16bom(v)
          : v,
  )
  const encoded = mods.has('base64') ? bytes.map(base64) : bytes.flatMap(base64Offsets)
  return encoded.map(literalGlob)
}

/** The per-value predicates combined for one string value: any of them, or with `all` every one. */
function valuePred(ctx: Ctx, preds: readonly StrPred[]): StrPred {
  if (preds.length === 1) return preds[0]!
  return ctx.mods.has('all') ? (s) => preds.every((p) => p(s)) : (s) => preds.some((p) => p(s))
}

/** OR (or, with `all`, AND) of per-value predicates over the field value, any array element matching. */
function combine(ctx: Ctx, id: number, preds: StrPred[], lower: boolean, nullOk: boolean): () => boolean {
  const pred = valuePred(ctx, preds)
  // With `all` on an array field, each value may be matched by a different element.
  const allOverArray = ctx.mods.has('all') && preds.length > 1
  return () => {
    const v = fieldValue(id)
    if (typeof v === 'string') return pred(lower ? lowerValue(id, v) : v)
    if (v === undefined || v === null) return nullOk
    if (typeof v === 'number' || typeof v === 'boolean') return pred(String(v))
    if (!Array.isArray(v)) return false
    const items = lower ? lowerArray(id, v) : v
    return allOverArray ? preds.every((p) => anyElement(p, items)) : anyElement(pred, items)
  }
}

/** Elements are already lower-cased when the test is case-insensitive. */
function anyElement(p: StrPred, items: readonly unknown[]): boolean {
  for (const v of items) {
    if (
      typeof v === 'string'
        ? p(v)
        : typeof v === 'number' || typeof v === 'boolean'
          ? p(String(v))
          : Array.isArray(v) && anyElement(p, v)
    ) {
      return true
    }
  }
  return false
}

/** `re` runs on the linear-time matcher (PCRE syntax and dot; no backreferences or lookaround). */
function regexPred(source: string, ctx: Ctx): StrPred | undefined {
  try {
    const re = compileRegex(source, ctx.mods.reFlags)
    return (s) => re.test(s)
  } catch (e) {
    if (!(e instanceof RegexError)) throw e
    ctx.issues.add(ctx.path, `invalid regular expression ${showValue(source)}: ${e.message}`)
    return undefined
  }
}

function cidrPred(source: string, ctx: Ctx): StrPred | undefined {
  const net = parseCidr(source)
  if (!net) {
    ctx.issues.add(ctx.path, `invalid CIDR ${showValue(source)}`)
    return undefined
  }
  return cidrPredicate([net])
}

/**
 * Literals one of which the raw line must contain whenever this test passes: for each value, its
 * longest run of never-escaped characters (OR of values ⇒ union; `all` ⇒ the single best run).
 */
function prefilterLiterals(ctx: Ctx, globsPerValue: Glob[][]): string[] | undefined {
  // Integers too: JSON prints them as written (`401`); other numbers may be printed differently.
  if (ctx.values.some((v) => typeof v !== 'string' && !(typeof v === 'number' && Number.isSafeInteger(v)))) {
    return undefined
  }
  const runs = globsPerValue.map((globs) => (globs.length === 1 ? longestRun(globs[0]!) : undefined))
  if (ctx.mods.has('all')) {
    const best = runs.filter((r) => r !== undefined).sort((a, b) => b.length - a.length)[0]
    return best ? [best] : undefined
  }
  if (runs.includes(undefined)) return undefined
  return [...new Set(runs as string[])]
}

/**
 * The longest never-escaped run of a glob's literal text. A run anchored at the value's start (or end)
 * keeps the JSON string's quote there (`"secrets"` for an exact `secrets`, `"curl` for `curl/*`),
 * which is rarer in a line; not when the piece could be a bare JSON number, boolean or null, which
 * Sigma also matches as text.
 */
function longestRun(glob: Glob): string | undefined {
  let best = ''
  let bestAt = { piece: -1, start: 0 }
  glob.pieces.forEach((piece, i) => {
    for (const m of piece.matchAll(NEVER_ESCAPED_RUN)) {
      if (m[0].length > best.length) {
        best = m[0]
        bestAt = { piece: i, start: m.index }
      }
    }
  })
  if (best.length < MIN_LITERAL) return undefined
  const piece = glob.pieces[bestAt.piece]!
  if (!JSON_BARE.test(piece)) {
    const atEnd = bestAt.start + best.length === piece.length
    if (bestAt.piece === 0 && bestAt.start === 0) best = `"${best}`
    if (bestAt.piece === glob.pieces.length - 1 && atEnd) best = `${best}"`
  }
  return best.toLowerCase()
}
