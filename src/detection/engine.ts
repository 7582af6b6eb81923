// Runs compiled rules over telemetry: line by line over events files (offline `evaluate`), or over
// already-normalized events (the live runner). Built once per rule set: rules are indexed by source and
// a combined literal prefilter per source lets most raw lines skip JSON parsing altogether.
import { open } from 'node:fs/promises'
import { PurpleError } from '../errors.js'
import { SOURCES, type SourceName, type TelemetryEvent } from '../telemetry/event.js'
import { detectSource, type NormalizeContext, parseLine } from '../telemetry/normalize.js'
import { LiteralScanner } from './literal-scan.js'
import type { Alert, CompiledRule, CorrelationRule, FieldVeto, RuleSet } from './types.js'
import { LineKeys, stringAt, type VetoField, vetoField } from './veto.js'

export interface EvaluateFileOptions {
  /** The file's source, or `auto` to detect it from the first non-empty line. */
  source: SourceName | 'auto'
  /** Splunk index stamped on the events (default `containers`). */
  index?: string
}

export interface EvaluateFileStats {
  source: SourceName
  /** Lines read (including blank ones). */
  lines: number
  /** Lines that passed the prefilter and were parsed. */
  parsed: number
  events: number
  alerts: number
}

export interface EngineOptions {
  /** Set false to parse every line (for measurements and for proving the prefilter loses nothing). */
  prefilter?: boolean
}

/** Where a line came from: the events file as given and its 1-based line number. */
export interface LineOrigin {
  file: string
  line: number
}

interface SourcePlan {
  /** Every rule that applies to the source, in rule-set order. */
  readonly rules: readonly CompiledRule[]
  /** Per rule: the vetoes that a raw line can prove (see veto.ts), if any. */
  readonly vetoes: readonly (readonly FieldVeto[] | undefined)[]
  /** Undefined when prefiltering is off (or does not pay): every line is parsed and every rule run. */
  prefilter: Prefilter | undefined
  /** While set, events files' first lines are sampled to choose each rule's rarest literals. */
  calibration: Calibration | undefined
}

/**
 * Which literals filter is a property of the data (`"get"` is on half of all audit lines, `"exec"` on
 * few): the first SAMPLE_LINES lines of an events file are sampled, then literal lists found on more
 * than COMMON_RATE of them are dropped from the rules' requirements (they cost scanning and filter
 * nothing), and the scan is dropped altogether when the prefilter would still pass more than
 * MAX_PASS_RATE of the lines.
 */
interface Calibration {
  /** Per sampled line: the literal ids found in it. */
  readonly lines: number[][]
}

const SAMPLE_LINES = 2000
const COMMON_RATE = 0.3
const MAX_PASS_RATE = 0.85

/**
 * One scanner over the literals of all the source's rules. A line is parsed only if some rule has no
 * prefilter or finds one literal of each of its lists in it, and then only those rules are run on its
 * events. Scanning is per block of lines (what the line reader has in memory): the first line that
 * needs it scans from itself to the block's end, and later lines take their matches in order.
 */
interface Prefilter {
  readonly scanner: LiteralScanner
  /** Per rule: its required literal lists as literal ids, or undefined when it must always run. */
  readonly ruleLiterals: readonly (readonly (readonly number[])[] | undefined)[]
  /** Per literal id: the rules (indices) that require it. */
  readonly literalRules: readonly (readonly number[])[]
  /** Indices of the rules that always run. */
  readonly alwaysRun: readonly number[]
  /** Vetoes (see veto.ts), when some rule has them. */
  readonly vetoes: Vetoes | undefined
  /** Scratch, per literal id: the stamp of the last line it was found in. */
  readonly seen: Uint32Array
  /** Scratch, per rule: the stamp of the last line its lists were checked on. */
  readonly checked: Uint32Array
  stamp: number
  /** The rules that always run, once looked up. */
  alwaysRunRules?: readonly CompiledRule[]
  /** Scratch per line: literal ids found, rule indices chosen. */
  readonly found: Int32Array
  readonly chosen: Int32Array
  /** The block the scanner's matches are from, how many there are, and the next one to take. */
  block: Block | undefined
  matches: number
  next: number
}

/** A run of whole lines held in `bytes[.., end)`, as handed out by the line reader. */
interface Block {
  readonly bytes: Buffer
  readonly end: number
}

// Sources whose lines are always JSON objects; a line skipped by the prefilter still gets this cheap
// shape check so garbage is reported even when no rule could have matched it.
const JSON_LINE_SOURCES: ReadonlySet<SourceName> = new Set(['k8s-audit', 'docker-events', 'container-logs'])

export class Engine {
  /** Per pipeline rule: the events its first search matched so far (the window its commands run over). */
  readonly #windows = new Map<CompiledRule, TelemetryEvent[]>()
  /** Pipeline rows already alerted (rule id + row fields), so a re-run over a grown window re-alerts nothing. */
  readonly #emittedRows = new Set<string>()
  /** Some window grew since the last flush. */
  #dirty = false
  readonly #plans: ReadonlyMap<SourceName, SourcePlan>
  readonly #correlations: ReadonlyMap<string, readonly CorrelationRule[]>

  constructor(ruleSet: RuleSet, options: EngineOptions = {}) {
    const usePrefilter = options.prefilter !== false
    this.#plans = new Map(
      SOURCES.map((source) => {
        const rules = ruleSet.rules.filter((r) => r.sources === undefined || r.sources.includes(source))
        const vetoes = rules.map((r) => (VETO_SOURCES.has(source) ? provable(r) : undefined))
        const plan: SourcePlan = {
          rules,
          vetoes,
          prefilter: usePrefilter ? buildPrefilter(rules, vetoes) : undefined,
          calibration: usePrefilter ? { lines: [] } : undefined,
        }
        return [source, plan] as const
      }),
    )
    const byBaseRule = new Map<string, CorrelationRule[]>()
    for (const c of ruleSet.correlations) {
      for (const ref of new Set(c.ruleRefs)) byBaseRule.set(ref, [...(byBaseRule.get(ref) ?? []), c])
    }
    this.#correlations = byBaseRule
  }

  // One raw line (1-based `origin.line`) → its alerts; offline, so the alert time is the event time.
  evaluateLine(text: string, source: SourceName, origin: LineOrigin, index?: string): Alert[] {
    const alerts: Alert[] = []
    const bytes = Buffer.from(text)
    const line = { file: origin.file, index: origin.line - 1, splunkIndex: index }
    const block = { bytes, end: bytes.length }
    this.#evaluateRaw(this.#plan(source), source, block, 0, bytes.length, line, alerts)
    return alerts
  }

  // Streams one events file in constant memory, calling onAlert for each alert in file order.
  async evaluateFile(
    file: string,
    options: EvaluateFileOptions,
    onAlert: (alert: Alert) => void,
  ): Promise<EvaluateFileStats> {
    let source = options.source === 'auto' ? undefined : options.source
    let plan: SourcePlan | undefined
    const stats = { lines: 0, parsed: 0, events: 0, alerts: 0 }
    const line = { file, index: 0, splunkIndex: options.index }
    let block: Block = { bytes: Buffer.alloc(0), end: 0 }
    const onBlock = (bytes: Buffer, start: number, end: number, first: number, last: boolean) => {
      block = { bytes, end }
      if (last || first === 0 || !plan || !source) return undefined
      const claimed = this.#claimBlock(plan, source, block, start, first, line, onAlert)
      if (claimed) {
        stats.parsed += claimed.parsed
        stats.events += claimed.events
        stats.alerts += claimed.alerts
      }
      return claimed?.lines
    }
    const onLine = (bytes: Buffer, start: number, end: number, i: number) => {
      if (source === undefined) {
        if (isBlank(bytes, start, end)) return
        source = detectedSource(bytes.toString('utf8', start, end), file, i)
      }
      plan ??= this.#plan(source)
      line.index = i
      const result = this.#evaluateRaw(plan, source, block, start, end, line, onAlert)
      if (plan.calibration) calibrate(plan, plan.calibration)
      if (result === SKIPPED) return
      stats.parsed++
      stats.events += result.events
      stats.alerts += result.alerts
    }
    // Once blocks are scanned whole, the reader reads into the scanner's memory (no copy per block).
    const bufferFor = (size: number) =>
      plan?.prefilter && !plan.calibration ? plan.prefilter.scanner.inputBuffer(size) : undefined
    stats.lines = await forEachLine(file, onLine, onBlock, bufferFor)
    if (source === undefined) {
      throw new PurpleError('PURPLE_EVENTS_INVALID', `${file}: no events to detect the source from`, {
        hint: 'pass --source explicitly',
      })
    }
    return { source, ...stats }
  }

  // Live runner: events already normalized (any sources), fed to correlations in event-time order.
  evaluateEvents(events: Iterable<TelemetryEvent>): Alert[] {
    const ordered = [...events].sort((a, b) => a.timeMs - b.timeMs)
    const alerts: Alert[] = []
    const now = new Date().toISOString()
    for (const event of ordered) {
      const where = event.origin ? { file: event.origin.file, event: event.origin.line - 1 } : {}
      this.#matchEvent(this.#plan(event.source).rules, event, where, now, alerts)
    }
    return alerts
  }

  /**
   * Runs every SPL pipeline rule over the events its first search matched so far and returns an alert
   * per new result row. A row's alert carries the time, audit ID and origin of its last event (the
   * latency that matters: the row could not exist before it) and all its events' audit IDs.
   */
  flushPipelines(liveTime?: string): Alert[] {
    const alerts: Alert[] = []
    if (!this.#dirty) return alerts
    this.#dirty = false
    for (const [rule, events] of this.#windows) {
      for (const row of rule.aggregate?.(events) ?? []) {
        const key = `${rule.id}\u0000${JSON.stringify(row.fields)}`
        if (this.#emittedRows.has(key) || row.events.length === 0) continue
        this.#emittedRows.add(key)
        const last = row.events[row.events.length - 1] as TelemetryEvent
        const where = last.origin ? { file: last.origin.file, event: last.origin.line - 1 } : {}
        const ids = row.events.map((e) => e.auditID).filter((id): id is string => id !== undefined)
        alerts.push({
          ...toAlert(rule, last, where, liveTime),
          fields: row.fields,
          ...(ids.length ? { auditIDs: ids } : {}),
          contributors: row.events,
        })
      }
    }
    return alerts
  }

  #plan(source: SourceName): SourcePlan {
    const plan = this.#plans.get(source)
    if (!plan) throw new PurpleError('PURPLE_USAGE', `unknown telemetry source '${source}'`)
    return plan
  }

  /**
   * Once the prefilter is calibrated and no rule always runs, a whole block is handled here: one scanner
   * call finds the literals and the newlines, only lines holding a match go further, and the others only
   * get the JSON shape check. Undefined: the line reader hands the block's lines over one by one.
   */
  #claimBlock(
    plan: SourcePlan,
    source: SourceName,
    block: Block,
    start: number,
    first: number,
    line: { file: string; index: number; splunkIndex: string | undefined },
    emit: Emit,
  ) {
    const p = plan.prefilter
    if (!p || plan.calibration || p.alwaysRun.length > 0 || block.end - start > SCAN_MAX_BYTES)
      return undefined
    const { bytes } = block
    p.block = block
    p.matches = p.scanner.scanLines(bytes, start, block.end)
    p.next = 0
    const { positions, newlines } = p.scanner
    const done = { lines: newlines.length, parsed: 0, events: 0, alerts: 0 }
    let lineStart = start
    for (let i = 0; i < newlines.length; i++) {
      const newline = newlines[i]!
      const lineEnd = newline > lineStart && bytes[newline - 1] === 0x0d ? newline - 1 : newline
      if (p.next < p.matches && positions[p.next]! < newline) {
        line.index = first + i
        const result = this.#evaluateRaw(plan, source, block, lineStart, lineEnd, line, emit)
        if (result !== SKIPPED) {
          done.parsed++
          done.events += result.events
          done.alerts += result.alerts
        }
      } else {
        line.index = first + i
        checkSkippedLine(bytes, lineStart, lineEnd, source, line)
      }
      lineStart = newline + 1
    }
    return done
  }

  /** Prefilter, then parse and match one raw line held in `block.bytes[start, end)`. */
  #evaluateRaw(
    plan: SourcePlan,
    source: SourceName,
    block: Block,
    start: number,
    end: number,
    line: { file: string; index: number; splunkIndex: string | undefined },
    emit: Emit,
  ): typeof SKIPPED | { events: number; alerts: number } {
    const { bytes } = block
    const candidates = plan.prefilter ? candidateRules(plan, plan.prefilter, block, start, end) : plan.rules
    if (candidates.length === 0) {
      checkSkippedLine(bytes, start, end, source, line)
      return SKIPPED
    }
    const text = bytes.toString('utf8', start, end)
    const ctx: NormalizeContext = { origin: { file: line.file, line: line.index + 1 } }
    if (line.splunkIndex) ctx.index = line.splunkIndex
    const events = parseLine(text, source, ctx)
    let alerts = 0
    const where = { file: line.file, event: line.index }
    for (const event of events) alerts += this.#matchEvent(candidates, event, where, undefined, emit)
    return { events: events.length, alerts }
  }

  /** Runs the given rules on one event; returns how many alerts it emitted. */
  #matchEvent(
    rules: readonly CompiledRule[],
    event: TelemetryEvent,
    where: { file?: string; event?: number },
    liveTime: string | undefined,
    emit: Emit,
  ): number {
    let count = 0
    let firedCorrelations: Set<string> | undefined
    for (const rule of rules) {
      if (!rule.match(event)) continue
      if (rule.aggregate) {
        const window = this.#windows.get(rule) ?? []
        window.push(event)
        this.#windows.set(rule, window)
        this.#dirty = true
        continue
      }
      if (!rule.correlationOnly) {
        emitAlert(emit, toAlert(rule, event, where, liveTime))
        count++
      }
      const correlations = this.#correlations.get(rule.id)
      if (correlations === undefined) continue
      for (const correlation of correlations) {
        // A correlation alerts at most once per event, even when several of its base rules match it.
        if (!correlation.onMatch(rule.id, event) || firedCorrelations?.has(correlation.id)) continue
        firedCorrelations ??= new Set()
        firedCorrelations.add(correlation.id)
        emitAlert(emit, toAlert(correlation, event, where, liveTime))
        count++
      }
    }
    return count
  }
}

type Emit = ((alert: Alert) => void) | Alert[]

function emitAlert(emit: Emit, alert: Alert): void {
  if (Array.isArray(emit)) emit.push(alert)
  else emit(alert)
}
const SKIPPED = Symbol('skipped')

function toAlert(
  rule: CompiledRule | CorrelationRule,
  event: TelemetryEvent,
  where: { file?: string; event?: number },
  liveTime: string | undefined,
): Alert {
  // Built field by field in a fixed order (object spreads cost more per alert, and alerts can be many).
  const alert = { rule: rule.id, title: rule.title } as Alert
  if (rule.level !== undefined) alert.level = rule.level
  alert.tags = rule.tags
  if ('describe' in rule && rule.describe) alert.message = rule.describe(event)
  if (where.file !== undefined) {
    alert.file = where.file
    alert.event = where.event
  }
  if (event.auditID !== undefined) alert.auditID = event.auditID
  alert.time = event.time
  alert.alertTime = liveTime ?? event.time
  alert.pipeline = 'builtin'
  // Evidence is kept only live, where the runner correlates alerts with actions.
  if (liveTime !== undefined) alert.evidence = event
  return alert
}

function detectedSource(text: string, file: string, index: number): SourceName {
  const source = detectSource(text)
  if (source) return source
  throw new PurpleError(
    'PURPLE_EVENTS_INVALID',
    `${file}:${index + 1}: cannot tell which telemetry source this line is from`,
    { hint: `pass --source (one of ${SOURCES.join(', ')})` },
  )
}

const SPACE = new Uint8Array(256)
for (const c of [9, 10, 11, 12, 13, 32]) SPACE[c] = 1

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (SPACE[bytes[i]!] !== 1) return false
  return true
}

/** Lines no rule can match are not parsed, but JSON sources still get a cheap `{…}` shape check. */
function checkSkippedLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  source: SourceName,
  line: { file: string; index: number },
) {
  if (bytes[start] === 0x7b && bytes[end - 1] === 0x7d) return
  if (!JSON_LINE_SOURCES.has(source)) return
  let first = start
  let last = end - 1
  while (first <= last && SPACE[bytes[first]!] === 1) first++
  while (last >= first && SPACE[bytes[last]!] === 1) last--
  if (first > last || (bytes[first] === 0x7b && bytes[last] === 0x7d)) return
  throw new PurpleError(
    'PURPLE_EVENTS_INVALID',
    `${line.file}:${line.index + 1}: not a valid ${source} record: line is not a JSON object`,
    { hint: `check that the file holds ${source} telemetry, or pass the right --source` },
  )
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/

/**
 * Per rule, the literal lists it requires (all of them: each list is one AND-ed part of the rule, and
 * one literal of each must occur); a rule without any (or only with literals the byte matcher cannot
 * fold) always runs.
 */
function buildPrefilter(rules: readonly CompiledRule[], vetoes: SourcePlan['vetoes']): Prefilter | undefined {
  return prefilterFrom(
    vetoes,
    rules.map((rule) => {
      const lists = (rule.prefilterChoices ?? (rule.prefilter ? [rule.prefilter] : []))
        .map((list) => list.map((l) => l.toLowerCase()))
        .filter((list) => list.length > 0 && list.every((l) => PRINTABLE_ASCII.test(l)))
      return lists.length > 0 ? lists : undefined
    }),
  )
}

function prefilterFrom(
  perRuleVetoes: SourcePlan['vetoes'],
  perRule: readonly (readonly (readonly string[])[] | undefined)[],
): Prefilter | undefined {
  const ids = new Map<string, number>()
  const idOf = (l: string) => ids.get(l) ?? ids.set(l, ids.size).get(l)!
  const ruleLiterals = perRule.map((lists) => lists?.map((list) => list.map(idOf)))
  const literals = [...ids.keys()]
  // A literal set too large for the scanner's table is not prefiltered: every line is parsed.
  if (!LiteralScanner.fits(literals)) return undefined
  const literalRules: number[][] = literals.map(() => [])
  ruleLiterals.forEach((lists, rule) => {
    for (const id of new Set(lists?.flat())) literalRules[id]!.push(rule)
  })
  return {
    scanner: new LiteralScanner(literals),
    ruleLiterals,
    literalRules,
    alwaysRun: ruleLiterals.flatMap((lists, rule) => (lists === undefined ? [rule] : [])),
    vetoes: vetoesFrom(perRuleVetoes),
    seen: new Uint32Array(literals.length),
    checked: new Uint32Array(ruleLiterals.length),
    stamp: 0,
    found: new Int32Array(literals.length),
    chosen: new Int32Array(ruleLiterals.length),
    block: undefined,
    matches: 0,
    next: 0,
  }
}

/** Records the literals of the line just scanned; after SAMPLE_LINES, rebuilds or drops the prefilter. */
function calibrate(plan: SourcePlan, c: Calibration): void {
  const p = plan.prefilter
  if (!p) {
    plan.calibration = undefined
    return
  }
  const found: number[] = []
  // The line was scanned with `p.stamp` (a line the source check skipped has no stamp: nothing found).
  for (let id = 0; id < p.seen.length; id++) if (p.seen[id] === p.stamp) found.push(id)
  c.lines.push(found)
  if (c.lines.length < SAMPLE_LINES) return
  plan.calibration = undefined
  const lineCount = c.lines.length
  const hits = (list: readonly number[]) =>
    c.lines.filter((ids) => list.some((id) => ids.includes(id))).length
  const kept = p.ruleLiterals.map((lists) => {
    const rare = lists?.filter((list) => hits(list) <= COMMON_RATE * lineCount)
    return rare?.length ? rare : undefined
  })
  const passing = c.lines.filter((ids) =>
    kept.some((lists) => lists === undefined || lists.every((list) => list.some((id) => ids.includes(id)))),
  ).length
  if (passing > MAX_PASS_RATE * lineCount) {
    plan.prefilter = undefined
    return
  }
  const literals = p.scanner.literals
  plan.prefilter = prefilterFrom(
    plan.vetoes,
    kept.map((lists) => lists?.map((list) => list.map((id) => literals[id]!))),
  )
}

/**
 * Sources whose lines are the events rules see (a k8s-audit line is one audit event, unless it is an
 * EventList, which the proofs exclude; its only derived field is Command): vetoes apply to them.
 */
const VETO_SOURCES: ReadonlySet<SourceName> = new Set(['k8s-audit'])

/** The rule's vetoes whose fields a raw line can prove (undefined when there are none). */
function provable(rule: CompiledRule): readonly FieldVeto[] | undefined {
  const vetoes = rule.vetoes?.filter((v) => vetoField(v.field) !== undefined)
  return vetoes?.length ? vetoes : undefined
}

/** The prefilter's vetoes, with per-line scratch (kept per line stamp, like `seen`). */
interface Vetoes {
  /** Per rule: its vetoes, each with its field's index in `fields`; undefined when it has none. */
  readonly perRule: readonly (readonly { readonly veto: FieldVeto; readonly field: number }[] | undefined)[]
  readonly fields: readonly VetoField[]
  readonly keys: LineKeys
  /** Per field: the stamp of the last line its value was read on, and that value (undefined: unproven). */
  readonly read: Uint32Array
  readonly value: (string | undefined)[]
  /** Per field: the stamp of the last line its value was lower-cased on, and the lower-cased value. */
  readonly lowered: Uint32Array
  readonly lowerValue: string[]
}

function vetoesFrom(perRule: SourcePlan['vetoes']): Vetoes | undefined {
  if (perRule.every((v) => v === undefined)) return undefined
  const fields = [...new Set(perRule.flatMap((vetoes) => vetoes?.map((v) => vetoField(v.field)!) ?? []))]
  return {
    perRule: perRule.map((vetoes) =>
      vetoes?.map((veto) => ({ veto, field: fields.indexOf(vetoField(veto.field)!) })),
    ),
    fields,
    keys: new LineKeys(fields),
    read: new Uint32Array(fields.length),
    value: fields.map(() => undefined),
    lowered: new Uint32Array(fields.length),
    lowerValue: fields.map(() => ''),
  }
}

function clearVetoScratch(v: Vetoes): void {
  v.read.fill(0)
  v.lowered.fill(0)
}

/**
 * Whether every chosen rule is proven unable to match the line `bytes[start, end)` by one of its vetoes
 * (then the line is not parsed at all): the line's keys are read once, and each veto's test runs on its
 * field's value where the keys prove it is.
 */
function allVetoed(
  p: Prefilter,
  v: Vetoes,
  count: number,
  bytes: Buffer,
  start: number,
  end: number,
): boolean {
  const { stamp, chosen } = p
  for (let i = 0; i < count; i++) if (v.perRule[chosen[i]!] === undefined) return false
  const line = bytes.subarray(start, end)
  const keyCount = p.scanner.keysOf(start, end, v.keys.lengths)
  if (!v.keys.read(line, p.scanner.keys, keyCount) || v.keys.maybeEventList(line)) return false
  for (let i = 0; i < count; i++) if (!anyVetoHolds(v, v.perRule[chosen[i]!]!, line, stamp)) return false
  return true
}

/** Whether one of the vetoes holds on its field's value (the line's keys just read). */
function anyVetoHolds(
  v: Vetoes,
  vetoes: NonNullable<Vetoes['perRule'][number]>,
  line: Buffer,
  stamp: number,
): boolean {
  for (const { veto, field } of vetoes) {
    if (v.read[field] !== stamp) {
      v.read[field] = stamp
      const at = v.keys.valueAt(line, v.fields[field]!)
      v.value[field] = at < 0 ? undefined : stringAt(line, at)
    }
    const value = v.value[field]
    if (value === undefined) continue
    if (veto.lower && v.lowered[field] !== stamp) {
      v.lowered[field] = stamp
      v.lowerValue[field] = value.toLowerCase()
    }
    if (veto.test(veto.lower ? v.lowerValue[field]! : value)) return true
  }
  return false
}

const NO_RULES: readonly CompiledRule[] = []

/** Most bytes scanned in one call (blocks grow past the reader's 1 MB only after very long lines). */
export const SCAN_MAX_BYTES = 4 << 20

/** The rules that can match this line: those whose literals it contains, plus those that always run. */
function candidateRules(
  plan: SourcePlan,
  p: Prefilter,
  block: Block,
  start: number,
  end: number,
): readonly CompiledRule[] {
  // Stamps avoid clearing `seen` and `checked` per line; on wrap-around, clear once.
  if (++p.stamp === 0xffffffff) {
    p.seen.fill(0)
    p.checked.fill(0)
    if (p.vetoes) clearVetoScratch(p.vetoes)
    p.stamp = 1
  }
  if (p.block !== block) {
    // Up to SCAN_MAX_BYTES at once (the scanner's memory is ~17x what it scans): the rest of the block,
    // else this line alone, else (a line longer than that) no prefilter for it: every rule runs.
    const scanEnd = block.end - start <= SCAN_MAX_BYTES ? block.end : end - start <= SCAN_MAX_BYTES ? end : -1
    if (scanEnd === -1) return plan.rules
    p.block = scanEnd === block.end ? block : undefined
    p.matches = p.scanner.scan(block.bytes, start, scanEnd)
    p.next = 0
  }
  const { seen, stamp, scanner, found, chosen, checked } = p
  const positions = scanner.positions
  let foundCount = 0
  while (p.next < p.matches && positions[p.next]! < end) {
    foundCount = scanner.mark(p.next++, seen, stamp, found, foundCount)
  }
  if (foundCount === 0) {
    p.alwaysRunRules ??= p.alwaysRun.map((i) => plan.rules[i]!)
    return p.alwaysRunRules
  }
  let count = 0
  for (const i of p.alwaysRun) chosen[count++] = i
  for (let f = 0; f < foundCount; f++) {
    for (const rule of p.literalRules[found[f]!]!) {
      if (checked[rule] === stamp) continue
      checked[rule] = stamp
      if (allListsSeen(p.ruleLiterals[rule]!, seen, stamp)) chosen[count++] = rule
    }
  }
  if (p.vetoes && count > 0 && allVetoed(p, p.vetoes, count, block.bytes, start, end)) return NO_RULES
  // Rule-set order (alerts come out in it); few rules per line, so insertion sort.
  for (let i = 1; i < count; i++) {
    const rule = chosen[i]!
    let j = i - 1
    for (; j >= 0 && chosen[j]! > rule; j--) chosen[j + 1] = chosen[j]!
    chosen[j + 1] = rule
  }
  const rules: CompiledRule[] = new Array(count)
  for (let i = 0; i < count; i++) rules[i] = plan.rules[chosen[i]!]!
  return rules
}

/** Whether every list has a literal seen on this line (plain loops: this runs per candidate line). */
function allListsSeen(lists: readonly (readonly number[])[], seen: Uint32Array, stamp: number): boolean {
  for (const list of lists) {
    let any = false
    for (let i = 0; i < list.length && !any; i++) any = seen[list[i]!] === stamp
    if (!any) return false
  }
  return true
}

const CHUNK_BYTES = 1 << 20

/**
 * Calls onLine for every line of a file as `bytes[start, end)` (line break and a trailing `\r` excluded;
 * `bytes` is only valid during the call), in memory bounded by the longest line. Splitting raw bytes
 * (newline never occurs inside a UTF-8 sequence) lets callers skip decoding lines they do not need;
 * measured faster than node:readline. Returns the line count. A missing file is PURPLE_INPUT_NOT_FOUND.
 * `onBlock`, when given, is called with each run of whole lines `bytes[start, end)` (ending with its
 * last line's newline, except for a `last` line at the end of the file) and the index of its first line,
 * before those lines. It may consume them itself by returning how many there are: they are then
 * counted but not passed to `onLine`. `bufferFor`, when given, may hand out the buffer to read into
 * next (at least `size` bytes; the unfinished line is carried over into it).
 */
export async function forEachLine(
  file: string,
  onLine: (bytes: Buffer, start: number, end: number, index: number) => void,
  onBlock?: (bytes: Buffer, start: number, end: number, first: number, last: boolean) => number | undefined,
  bufferFor?: (size: number) => Buffer | undefined,
): Promise<number> {
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'EISDIR' || error.code === 'ENOTDIR') {
      throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `events file not found: ${file}`)
    }
    throw error
  })
  let buffer: Buffer = Buffer.allocUnsafe(CHUNK_BYTES)
  let filled = 0
  let index = 0
  const emit = (start: number, end: number) => {
    // A UTF-8 byte-order mark on the first line is not part of the record.
    if (index === 0 && buffer[start] === 0xef && buffer[start + 1] === 0xbb && buffer[start + 2] === 0xbf) {
      start += 3
    }
    onLine(buffer, start, end > start && buffer[end - 1] === 0x0d ? end - 1 : end, index++)
  }
  try {
    for (;;) {
      if (filled === buffer.length) buffer = grow(buffer, filled)
      const next = bufferFor?.(buffer.length)
      if (next !== undefined && next !== buffer && next.length >= buffer.length) {
        buffer.copy(next, 0, 0, filled)
        buffer = next
      }
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null)
      if (bytesRead === 0) break
      const scanFrom = filled
      filled += bytesRead
      let start = 0
      const last = onBlock ? buffer.lastIndexOf(0x0a, filled - 1) : -1
      const claimed = last >= scanFrom ? onBlock?.(buffer, 0, last + 1, index, false) : undefined
      if (claimed !== undefined) {
        index += claimed
        start = last + 1
      } else {
        for (
          let nl = buffer.indexOf(0x0a, scanFrom);
          nl !== -1 && nl < filled;
          nl = buffer.indexOf(0x0a, nl + 1)
        ) {
          emit(start, nl)
          start = nl + 1
        }
      }
      // Move the unfinished line to the front for the next read.
      buffer.copy(buffer, 0, start, filled)
      filled -= start
    }
    if (filled > 0) {
      onBlock?.(buffer, 0, filled, index, true)
      emit(0, filled)
    }
  } finally {
    await handle.close()
  }
  return index
}

function grow(buffer: Buffer, used: number): Buffer {
  const bigger = Buffer.allocUnsafe(buffer.length * 2)
  buffer.copy(bigger, 0, 0, used)
  return bigger
}
