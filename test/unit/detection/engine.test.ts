import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBenchData } from '../../../src/bench/generate.js'
import { Engine, forEachLine, SCAN_MAX_BYTES } from '../../../src/detection/engine.js'
import { loadRules } from '../../../src/detection/load-rules.js'
import type { Alert, CompiledRule, CorrelationRule, RuleSet } from '../../../src/detection/types.js'
import { PurpleError } from '../../../src/errors.js'
import { getField, type SourceName, type TelemetryEvent } from '../../../src/telemetry/event.js'
import { parseLine } from '../../../src/telemetry/normalize.js'

const RULES = 'test/fixtures/engine/rules'
const EVENTS = 'test/fixtures/engine/events'

/** A real rule closure over one field, optionally restricted to sources and with a prefilter. */
function fieldRule(
  id: string,
  field: string,
  value: string,
  extra: { sources?: SourceName[]; prefilter?: string[]; correlationOnly?: boolean } = {},
): CompiledRule {
  return {
    id,
    title: `title of ${id}`,
    file: `${id}.yml`,
    language: 'sigma',
    level: 'high',
    tags: ['attack.t1552.007'],
    ...extra,
    match: (event) => String(getField(event, field)).toLowerCase() === value,
  }
}

async function evaluate(engine: Engine, file: string, source: SourceName | 'auto' = 'auto') {
  const alerts: Alert[] = []
  const stats = await engine.evaluateFile(file, { source }, (a) => alerts.push(a))
  return { alerts, stats }
}

async function rejection(promise: Promise<unknown>): Promise<PurpleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(PurpleError)
  return error as PurpleError
}

const summary = (alerts: readonly Alert[]) => alerts.map((a) => `${a.rule}@${a.file}:${a.event}`)

describe('forEachLine', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'purplekind-lines-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('splits on LF, drops a CR before it and a leading BOM, and keeps a last line without newline', async () => {
    const file = join(dir, 'mixed.txt')
    await writeFile(file, '\ufeffone\r\ntwo\n\nthree')
    const lines: string[] = []
    const count = await forEachLine(file, (b, s, e, i) => lines.push(`${i}:${b.toString('utf8', s, e)}`))
    expect(lines).toEqual(['0:one', '1:two', '2:', '3:three'])
    expect(count).toBe(4)
  })

  it('handles lines longer than its read buffer and multi-byte characters across reads', async () => {
    const file = join(dir, 'long.txt')
    const long = 'é'.repeat(1_500_000)
    await writeFile(file, `short\n${long}\nend\n`)
    const lines: string[] = []
    await forEachLine(file, (b, s, e) => lines.push(b.toString('utf8', s, e)))
    expect(lines.map((l) => l.length)).toEqual([5, long.length, 3])
    expect(lines[1]).toBe(long)
  })

  it('reports a missing file as PURPLE_INPUT_NOT_FOUND', async () => {
    const error = await rejection(forEachLine(join(dir, 'missing.jsonl'), () => {}))
    expect(error.code).toBe('PURPLE_INPUT_NOT_FOUND')
    expect(error.message).toContain('missing.jsonl')
  })
})

describe('Engine over the fixture rules', () => {
  let ruleSet: RuleSet
  beforeAll(async () => {
    ruleSet = await loadRules([RULES])
  })

  it('raises the expected alerts, in file order, with 0-based line indexes', async () => {
    const { alerts, stats } = await evaluate(new Engine(ruleSet), `${EVENTS}/audit.jsonl`)
    const file = `${EVENTS}/audit.jsonl`
    expect(summary(alerts)).toEqual(
      [
        'secrets-list@1',
        'secret-get@3',
        'exec-imds@4',
        'enum-then-exec@4',
        'kubectl-exec-command@4',
        'exec-imds@5',
        'secrets-list@6',
      ].map((s) => s.replace('@', `@${file}:`)),
    )
    // The rule reading derived `Command` has no prefilter, so every line is parsed (blank ones give no event).
    expect(stats).toEqual({ source: 'k8s-audit', lines: 8, parsed: 8, events: 7, alerts: 7 })
  })

  it('never loses an alert to the prefilter (fixture)', async () => {
    for (const file of ['audit.jsonl', 'docker-events.jsonl']) {
      const fast = await evaluate(new Engine(ruleSet), `${EVENTS}/${file}`)
      const full = await evaluate(new Engine(ruleSet, { prefilter: false }), `${EVENTS}/${file}`)
      expect(fast.alerts).toEqual(full.alerts)
    }
  })

  it('fills every alert field; offline, the alert time is the event time and no evidence is kept', async () => {
    const { alerts } = await evaluate(new Engine(ruleSet), `${EVENTS}/audit.jsonl`)
    expect(alerts[0]).toEqual({
      rule: 'secrets-list',
      title: 'Kubernetes secrets listed by a person',
      level: 'medium',
      tags: ['attack.credential-access', 'attack.t1552.007'],
      file: `${EVENTS}/audit.jsonl`,
      event: 1,
      auditID: '00000000-0000-4000-8000-000000000001',
      time: '2026-01-12T08:00:01.000000Z',
      alertTime: '2026-01-12T08:00:01.000000Z',
      pipeline: 'builtin',
    })
  })

  it('detects the source from the first non-empty line (--source auto)', async () => {
    const { alerts, stats } = await evaluate(new Engine(ruleSet), `${EVENTS}/docker-events.jsonl`)
    expect(stats.source).toBe('docker-events')
    expect(summary(alerts)).toEqual([`docker-container-create@${EVENTS}/docker-events.jsonl:1`])
    expect(alerts[0]?.auditID).toBeUndefined()
  })

  it('refuses a file whose source cannot be detected, naming the file and line', async () => {
    const error = await rejection(evaluate(new Engine(ruleSet), `${EVENTS}/unknown-source.jsonl`))
    expect(error.code).toBe('PURPLE_EVENTS_INVALID')
    expect(error.message).toContain(`${EVENTS}/unknown-source.jsonl:1`)
  })

  it('reports a malformed line that may match with its 1-based line number', async () => {
    const error = await rejection(evaluate(new Engine(ruleSet), `${EVENTS}/bad-json.jsonl`, 'k8s-audit'))
    expect(error.code).toBe('PURPLE_EVENTS_INVALID')
    expect(error.message).toContain(`${EVENTS}/bad-json.jsonl:2`)
  })

  it('still reports a non-JSON line that the prefilter skips', async () => {
    const error = await rejection(evaluate(new Engine(ruleSet), `${EVENTS}/bad-shape.jsonl`, 'k8s-audit'))
    expect(error.code).toBe('PURPLE_EVENTS_INVALID')
    expect(error.message).toContain(`${EVENTS}/bad-shape.jsonl:3`)
  })

  it('evaluates one raw line with evaluateLine', () => {
    const engine = new Engine(ruleSet)
    const lines: string[] = []
    return forEachLine(`${EVENTS}/audit.jsonl`, (b, s, e) => lines.push(b.toString('utf8', s, e))).then(
      () => {
        const alerts = engine.evaluateLine(lines[3]!, 'k8s-audit', { file: 'x.jsonl', line: 4 })
        expect(summary(alerts)).toEqual(['secret-get@x.jsonl:3'])
        expect(engine.evaluateLine(lines[0]!, 'k8s-audit', { file: 'x.jsonl', line: 1 })).toEqual([])
      },
    )
  })
})

describe('Engine internals with hand-built rules', () => {
  const auditFile = `${EVENTS}/audit.jsonl`

  it('runs a rule only on its sources; a rule without sources runs on every source', async () => {
    const engine = new Engine({
      rules: [
        fieldRule('docker-only', 'Type', 'container', { sources: ['docker-events'] }),
        fieldRule('anywhere', 'sourcetype', 'kubernetes:api'),
        fieldRule('docker-anywhere', 'sourcetype', 'docker:events'),
      ],
      correlations: [],
    })
    const audit = await evaluate(engine, auditFile)
    expect(new Set(audit.alerts.map((a) => a.rule))).toEqual(new Set(['anywhere']))
    expect(audit.alerts).toHaveLength(7)
    const docker = await evaluate(engine, `${EVENTS}/docker-events.jsonl`)
    expect(docker.alerts.map((a) => a.rule)).toEqual([
      'docker-only',
      'docker-anywhere',
      'docker-only',
      'docker-anywhere',
    ])
  })

  it('parses only lines holding a literal, and runs only the rules whose literals occur', async () => {
    const calls: string[] = []
    const counting = (id: string, literal: string): CompiledRule => ({
      ...fieldRule(id, 'verb', 'never'),
      prefilter: [literal],
      match: () => {
        calls.push(id)
        return false
      },
    })
    const engine = new Engine({
      rules: [counting('on-leases', 'leases'), counting('on-exec', 'exec')],
      correlations: [],
    })
    const { stats } = await evaluate(engine, auditFile)
    expect(stats.parsed).toBe(3)
    expect(calls).toEqual(['on-leases', 'on-exec', 'on-exec'])
  })

  it('parses every line when one rule has no prefilter', async () => {
    const engine = new Engine({
      rules: [fieldRule('a', 'verb', 'list', { prefilter: ['list'] }), fieldRule('b', 'verb', 'get')],
      correlations: [],
    })
    const { stats, alerts } = await evaluate(engine, auditFile)
    expect(stats.parsed).toBe(stats.lines)
    expect(summary(alerts).map((s) => s.split('@')[0])).toEqual(['a', 'b', 'b', 'a', 'a'])
  })

  it('feeds base-rule matches in order to the correlations that reference them', async () => {
    const fed: string[] = []
    const correlation: CorrelationRule = {
      id: 'corr',
      title: 'two in a row',
      file: 'corr.yml',
      language: 'sigma',
      tags: [],
      ruleRefs: ['list', 'exec'],
      onMatch(rule, event) {
        fed.push(`${rule}:${event.auditID?.slice(-1)}`)
        return rule === 'exec'
      },
    }
    const engine = new Engine({
      rules: [
        fieldRule('list', 'verb', 'list', { correlationOnly: true }),
        fieldRule('exec', 'objectRef.subresource', 'exec'),
        fieldRule('unrelated', 'verb', 'get'),
      ],
      correlations: [correlation],
    })
    const { alerts } = await evaluate(engine, auditFile)
    expect(fed).toEqual(['list:1', 'exec:4', 'exec:5', 'list:6', 'list:7'])
    // `list` only feeds the correlation (correlationOnly): it raises no alert of its own.
    expect(summary(alerts).map((s) => s.replace(`${auditFile}:`, ''))).toEqual([
      'unrelated@3',
      'exec@4',
      'corr@4',
      'unrelated@4',
      'exec@5',
      'corr@5',
    ])
  })

  it('raises a correlation at most once per event, even when two of its base rules match it', async () => {
    const correlation: CorrelationRule = {
      id: 'corr',
      title: 'always',
      file: 'corr.yml',
      language: 'sigma',
      tags: [],
      ruleRefs: ['a', 'b'],
      onMatch: () => true,
    }
    const engine = new Engine({
      rules: [fieldRule('a', 'verb', 'list'), fieldRule('b', 'objectRef.resource', 'secrets')],
      correlations: [correlation],
    })
    const { alerts } = await evaluate(engine, auditFile)
    expect(summary(alerts).map((s) => s.split('@')[0])).toEqual([
      'a',
      'corr',
      'b',
      'b',
      'corr',
      'a',
      'corr',
      'b',
      'a',
      'corr',
      'b',
    ])
  })

  it('evaluateEvents: time-ordered, evidence kept, alert time is now, file and index from the origin', () => {
    const engine = new Engine({ rules: [fieldRule('list', 'verb', 'list')], correlations: [] })
    const line = (n: number, stamp: string) =>
      parseLine(
        JSON.stringify({ kind: 'Event', auditID: `id-${n}`, verb: 'list', stageTimestamp: stamp }),
        'k8s-audit',
        { origin: { file: 'live.jsonl', line: n } },
      )[0] as TelemetryEvent
    const later = line(1, '2026-01-12T08:00:09Z')
    const earlier = line(2, '2026-01-12T08:00:01Z')
    const before = Date.now()
    const alerts = engine.evaluateEvents([later, earlier])
    expect(alerts.map((a) => [a.auditID, a.file, a.event])).toEqual([
      ['id-2', 'live.jsonl', 1],
      ['id-1', 'live.jsonl', 0],
    ])
    expect(alerts[0]?.evidence).toBe(earlier)
    expect(Date.parse(alerts[0]!.alertTime)).toBeGreaterThanOrEqual(before - 1)
    expect(alerts[0]?.time).toBe('2026-01-12T08:00:01Z')
  })
})

describe('prefilter on a realistic log', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'purplekind-engine-bench-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('never loses an alert over 4,000 generated audit events and the 100 benchmark rules', async () => {
    const data = await ensureBenchData({ root: dir, seed: 7, lines: 4000 })
    const ruleSet = await loadRules([data.rulesDir])
    expect(ruleSet.rules).toHaveLength(100)
    const fast = await evaluate(new Engine(ruleSet), data.events, 'k8s-audit')
    const full = await evaluate(new Engine(ruleSet, { prefilter: false }), data.events, 'k8s-audit')
    expect(fast.alerts).toEqual(full.alerts)
    // Not vacuous: many alerts, and most lines were never parsed.
    expect(fast.alerts.length).toBeGreaterThan(200)
    expect(fast.stats.parsed).toBeLessThan(full.stats.parsed / 2)
  })

  it('loses nothing in whole-block mode either: CRLF, blank lines, and a line longer than a scan (5 MB)', async () => {
    const data = await ensureBenchData({ root: dir, seed: 11, lines: 9000 })
    const ruleSet = await loadRules([data.rulesDir])
    const lines = (await readFile(data.events, 'utf8')).trimEnd().split('\n')
    // Past calibration (2,000 lines), where blocks are handled whole: an alerting line made huge (padding
    // in a field no rule reads), then odd line endings and blank lines after it.
    const before = await evaluate(new Engine(ruleSet, { prefilter: false }), data.events, 'k8s-audit')
    const target = before.alerts.find((a) => (a.event ?? 0) >= 6000)!.event!
    const edited = lines.map((l, i) =>
      i === target
        ? l.replace('{', `{"padding":"${'x'.repeat(SCAN_MAX_BYTES + (1 << 20))}",`)
        : i > target && i % 97 === 0
          ? `${l}\r`
          : i > target && i % 149 === 0
            ? `\n ${l}`
            : l,
    )
    const file = join(dir, 'edited.jsonl')
    await writeFile(file, `${edited.join('\n')}\n`)
    const fast = await evaluate(new Engine(ruleSet), file, 'k8s-audit')
    const full = await evaluate(new Engine(ruleSet, { prefilter: false }), file, 'k8s-audit')
    expect(fast.alerts).toEqual(full.alerts)
    expect(fast.stats.lines).toBe(full.stats.lines)
    expect(fast.alerts.filter((a) => a.event === target).map((a) => a.rule)).toEqual(
      before.alerts.filter((a) => a.event === target).map((a) => a.rule),
    )
    expect(fast.alerts.length).toBeGreaterThan(500)
    expect(fast.stats.parsed).toBeLessThan(full.stats.parsed / 2)
  }, 60_000)
})
