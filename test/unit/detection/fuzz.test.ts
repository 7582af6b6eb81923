// Seeded, time-bounded fuzzing of what attackers can write (issue 8 item 7): Sigma rule files, SPL
// searches and events lines. Every input must end in success or a coded PurpleError (never
// PURPLE_INTERNAL or a stray exception), within a time bound, in bounded memory. The seed is printed;
// rerun one with PURPLEKIND_FUZZ_SEED=<seed>.
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { createRng, type Rng } from '../../../src/bench/generate.js'
import { Engine } from '../../../src/detection/engine.js'
import { parseSigma } from '../../../src/detection/sigma/index.js'
import { parseSpl } from '../../../src/detection/spl/index.js'
import type { CompiledRule } from '../../../src/detection/types.js'
import { PurpleError } from '../../../src/errors.js'
import type { TelemetryEvent } from '../../../src/telemetry/event.js'
import { detectSource } from '../../../src/telemetry/normalize.js'

const SEED = Number(process.env.PURPLEKIND_FUZZ_SEED ?? 20_261_130)
const SLOW_MS = 5000
const MAX_RSS_MB = 1024

interface Tally {
  inputs: number
  ok: number
  coded: number
  failures: string[]
  slowest: number
}

function fuzz(
  name: string,
  count: number,
  make: (rng: Rng, i: number) => string,
  run: (input: string) => void,
): Tally {
  const rng = createRng(SEED + name.length)
  const tally: Tally = { inputs: 0, ok: 0, coded: 0, failures: [], slowest: 0 }
  for (let i = 0; i < count; i++) {
    const input = make(rng, i)
    const t0 = performance.now()
    try {
      run(input)
      tally.ok++
    } catch (error) {
      if (error instanceof PurpleError && error.code !== 'PURPLE_INTERNAL') {
        tally.coded++
        if (error.message.length > 20_000)
          tally.failures.push(`#${i}: message of ${error.message.length} chars`)
      } else
        tally.failures.push(`#${i}: ${String(error).slice(0, 200)} ← ${JSON.stringify(input.slice(0, 120))}`)
    }
    const ms = performance.now() - t0
    if (ms > 500)
      console.log(`fuzz ${name} #${i}: ${Math.round(ms)} ms ← ${JSON.stringify(input.slice(0, 80))}`)
    tally.slowest = Math.max(tally.slowest, ms)
    if (ms > SLOW_MS)
      tally.failures.push(`#${i}: took ${Math.round(ms)} ms ← ${JSON.stringify(input.slice(0, 120))}`)
    tally.inputs++
  }
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20)
  console.log(
    `fuzz ${name} (seed ${SEED}): ${tally.inputs} inputs, ${tally.ok} accepted, ${tally.coded} coded errors, ` +
      `${tally.failures.length} failures, slowest ${tally.slowest.toFixed(0)} ms, rss ${rss} MB`,
  )
  expect(rss).toBeLessThan(MAX_RSS_MB)
  return tally
}

// --- pieces -----------------------------------------------------------------------------------------

const FIELDS = [
  'verb',
  'objectRef.resource',
  'user.username',
  'userAgent',
  'requestURI',
  'sourceIPs',
  'a.b.c',
  '',
  'responseStatus.code',
  'x|y',
]
const MODS = [
  'contains',
  'startswith',
  'endswith',
  'all',
  're',
  'i',
  'm',
  's',
  'cidr',
  'base64',
  'base64offset',
  'wide',
  'utf16le',
  'windash',
  'exists',
  'gt',
  'lte',
  'neq',
  'cased',
  'fieldref',
  'expand',
  'bogus',
]
const ATOMS = [
  'a',
  '*',
  '?',
  '\\',
  '\\*',
  '(',
  ')',
  '[',
  ']',
  '{2,3}',
  '+',
  '.',
  '|',
  '^',
  '$',
  '(?=x)',
  '\\1',
  '10.0.0.0/8',
  '::1/128',
  ' -s ',
  'é',
  '😀',
  '\n',
  '"',
  "'",
  '%',
  '_',
  'secrets',
  'list',
  '(?i)',
  '{',
  '}',
  '#',
  ': ',
]

function str(rng: Rng, max = 12): string {
  let s = ''
  const n = rng.int(max)
  for (let k = 0; k < n; k++) s += rng.pick(ATOMS)
  if (rng.chance(0.02)) s += 'a'.repeat(rng.int(20_000))
  return s
}

function value(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 5 : 8)) {
    case 0:
      return rng.int(1000) - 10
    case 1:
      return null
    case 2:
      return rng.chance(0.5)
    case 5:
      return Array.from({ length: rng.int(4) }, () => value(rng, depth + 1))
    case 6:
      return { [str(rng, 3)]: value(rng, depth + 1) }
    case 7:
      return rng.chance(0.5) ? [] : {}
    default:
      return str(rng)
  }
}

function condition(rng: Rng, names: string[], depth = 0): string {
  const name = () => (names.length && rng.chance(0.9) ? rng.pick(names) : str(rng, 2))
  if (depth > 4 || rng.chance(0.3)) {
    return rng.pick([
      name(),
      `1 of ${name()}*`,
      'all of them',
      `${rng.int(4)} of sel*`,
      '| count() > 5',
      name(),
    ])
  }
  const a = condition(rng, names, depth + 1)
  const b = condition(rng, names, depth + 1)
  return rng.pick([`${a} and ${b}`, `${a} or ${b}`, `not ${a}`, `(${a})`, `${a} ${b}`, `(${a}`])
}

function sigmaRule(rng: Rng): string {
  const detection: Record<string, unknown> = {}
  const names: string[] = []
  for (let s = 0, n = 1 + rng.int(3); s < n; s++) {
    const name = rng.pick(['sel', 'sel_a', 'filter', 'keywords', str(rng, 2)])
    names.push(name)
    const entry = () => {
      const mods = Array.from({ length: rng.int(3) }, () => rng.pick(MODS))
      return { [[rng.pick(FIELDS), ...mods].join('|')]: value(rng) }
    }
    detection[name] = rng.chance(0.15)
      ? [str(rng), str(rng)]
      : rng.chance(0.2)
        ? [entry(), entry()]
        : { ...entry(), ...entry() }
  }
  detection.condition = rng.chance(0.1) ? [condition(rng, names), 3] : condition(rng, names)
  const doc: Record<string, unknown> = {
    title: rng.chance(0.9) ? 'fuzz' : value(rng),
    id: rng.chance(0.5) ? 'fuzz-rule' : value(rng),
    logsource: rng.chance(0.8)
      ? { product: rng.pick(['kubernetes', 'windows', 7]), service: 'audit' }
      : value(rng),
    detection: rng.chance(0.95) ? detection : value(rng),
  }
  if (rng.chance(0.1)) {
    doc.correlation = {
      type: rng.pick(['event_count', 'temporal', 'value_count', 'x']),
      rules: [str(rng, 2)],
      timespan: rng.pick(['5m', '1x', 3]),
      group_by: value(rng),
      condition: value(rng),
    }
  }
  return stringify(doc)
}

function mutate(rng: Rng, text: string): string {
  const chars = [...text]
  for (let k = 0, n = 1 + rng.int(6); k < n; k++) {
    const at = rng.int(chars.length + 1)
    const op = rng.int(3)
    if (op === 0) chars.splice(at, 1)
    else if (op === 1)
      chars.splice(at, 0, rng.pick([':', '-', ' ', '\n', '[', '{', '*', '&a', '!!', '"', '|', '\t']))
    else chars[at] = String.fromCharCode(rng.int(128))
  }
  return chars.join('')
}

const SIGMA_SPECIALS: ((rng: Rng) => string)[] = [
  () =>
    `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
      { length: 12 },
      (_, k) =>
        `${String.fromCharCode(98 + k)}: &${String.fromCharCode(98 + k)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + k)}`)
          .join(',')}]`,
    ).join('\n')}\ntitle: bomb\ndetection: {sel: {verb: *m}, condition: sel}\n`,
  () => 'title: t\ndetection:\n  sel:\n    verb: *nowhere\n  condition: sel\n',
  (rng) =>
    `title: t\ndetection:\n  sel: {verb: get}\n  condition: ${'not '.repeat(2000 + rng.int(8000))}sel\n`,
  (rng) => {
    const n = 2000 + rng.int(3000)
    return `title: t\ndetection:\n  sel: {verb: get}\n  condition: '${'('.repeat(n)}sel${')'.repeat(n)}'\n`
  },
  (rng) => `title: t\ndetection:\n  sel:\n    verb: ${'['.repeat(1000 + rng.int(9000))}\n  condition: sel\n`,
  () =>
    `title: t\ndetection:\n  sel:\n    userAgent|startswith: ${'A'.repeat(5 * 2 ** 20)}\n  condition: sel\n`,
  () =>
    `title: t\ndetection:\n  sel:\n    userAgent|windash|base64offset|contains: '${' -a'.repeat(40)}'\n  condition: sel\n`,
  () => `title: t\ndetection:\n  sel:\n    ${'k'.repeat(100_000)}|re: '(a'\n  condition: sel\n`,
  () => `title: t\ndetection:\n  sel:\n    f|re: '${'(a'.repeat(300)}${')'.repeat(300)}'\n  condition: sel\n`,
  () => `title: t\ndetection:\n  sel:\n    f|re: 'a{1000}{1000}'\n  condition: sel\n`,
  () =>
    `title: t\ndetection:\n  ${Array.from({ length: 3000 }, (_, k) => `s${k}: {f: v}`).join('\n  ')}\n  condition: all of them\n`,
  () => '\u0000\u0001\ufeff--- !!binary |\n  R0lGODlhDAAMAIQAAP\n',
  () => Array.from({ length: 200 }, () => '---\ntitle: t\n').join(''),
]

const SEED_RULE = `title: Secrets read
id: 6b1f0e8a-1111-4c1b-8f3e-000000000001
logsource: {product: kubernetes, service: audit}
detection:
  sel:
    verb: [get, list]
    objectRef.resource: secrets
    userAgent|re: '^kubectl/v1\\.(1[0-9]|2[0-5])\\.'
  filter:
    user.username|startswith: 'system:'
  condition: sel and not filter
`

function sigmaInput(rng: Rng, i: number): string {
  if (i % 40 === 0) return rng.pick(SIGMA_SPECIALS)(rng)
  return rng.chance(0.4) ? mutate(rng, SEED_RULE) : sigmaRule(rng)
}

const SPL_TOKENS = [
  'verb=get',
  'verb',
  '=',
  '!=',
  '<',
  '>=',
  '"',
  '"x"',
  '(',
  ')',
  '|',
  '| search',
  '| stats count',
  'NOT',
  'OR',
  'AND',
  'IN',
  ',',
  '*',
  '\\',
  '`m`',
  '[',
  'sourcetype=kubernetes:api',
  'sourceIPs=10.0.0.0/8',
  'x=1.2.3.4/99',
  '"c-ua"=x',
  'earliest=-1h',
  'tag::a',
  'f=*a*a*',
  'index=containers',
  '#',
  '\n',
  'TERM(',
  '==',
  ' ',
]

function splInput(rng: Rng, i: number): string {
  if (i % 50 === 0) {
    const n = 1000 + rng.int(4000)
    return rng.pick([
      `${'('.repeat(n)}verb=get${')'.repeat(n)}`,
      `${'NOT '.repeat(n)}verb=get`,
      `userAgent="${'*a'.repeat(n)}*b"`,
      `verb=${'x'.repeat(3 * 2 ** 20)}`,
      `verb IN (${Array(n).fill('"a"').join(',')})`,
      `${Array(n).fill('verb=get').join(' OR ')}`,
      `# level: ${'z'.repeat(2 ** 20)}\nverb=get`,
    ])
  }
  const parts = Array.from({ length: 1 + rng.int(12) }, () =>
    rng.chance(0.8) ? rng.pick(SPL_TOKENS) : str(rng, 3),
  )
  return parts.join(rng.chance(0.7) ? ' ' : '')
}

// --- events -----------------------------------------------------------------------------------------

const EVENT_RULES = [
  "sel:\n    userAgent|re: '(a+)+$'\n  condition: sel",
  "sel:\n    userAgent: '*a?a*b'\n  condition: sel",
  'kw:\n    - canary\n    - "aws*key"\n  condition: kw',
  'sel:\n    sourceIPs|cidr: [10.0.0.0/8, "fd00::/8"]\n  condition: sel',
  "sel:\n    requestObject.cmd|windash|contains: ' -enc '\n  condition: sel",
  "sel:\n    requestObject.data|base64offset|contains: 'secret'\n  condition: sel",
  'sel:\n    responseStatus.code|gte: 400\n    objectRef.name|exists: true\n  condition: sel',
  "sel:\n    objectRef.resource: secrets\n    verb: [get, list]\n  filter:\n    user.username|startswith: 'system:'\n  condition: sel and not filter",
]

function eventEngine(): Engine {
  const rules: CompiledRule[] = EVENT_RULES.map(
    (d, k) => parseSigma(`title: r${k}\nid: r${k}\ndetection:\n  ${d}\n`, `r${k}.yml`).rules[0]!,
  )
  for (const [k, search] of [
    'verb=get userAgent="*a*a*a*b"',
    'sourceIPs="10.0.0.0/8" OR objectRef=*',
    'canary NOT verb=list',
    '"c-ua" IN ("", "curl*")',
  ].entries()) {
    rules.push(parseSpl(search, `s${k}.spl`))
  }
  return new Engine({ rules, correlations: [] })
}

function eventValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 6 : 9)) {
    case 0:
      return rng.int(70_000) - 100
    case 1:
      return null
    case 2:
      return rng.chance(0.5)
    case 3:
      return 'a'.repeat(rng.int(12_000))
    case 4:
      return rng.pick([
        '10.1.2.3',
        'fd00::1',
        '::ffff:10.0.0.1',
        '999.1.1.1',
        'powershell /enc AAA',
        'c2VjcmV0',
        'kubectl/v1.20.1',
        '',
        '\u2028\r\n',
        '😀',
      ])
    case 6:
      return Array.from({ length: rng.int(5) }, () => eventValue(rng, depth + 1))
    case 7:
    case 8:
      return Object.fromEntries(
        Array.from({ length: rng.int(4) }, () => [
          rng.pick(['verb', 'name', 'code', 'cmd', 'data', 'resource', str(rng, 2)]),
          eventValue(rng, depth + 1),
        ]),
      )
    default:
      return str(rng)
  }
}

function eventLine(rng: Rng, i: number): string {
  if (i % 100 === 0) {
    return rng.pick([
      `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      `{"verb":"get","userAgent":"${'a'.repeat(2 ** 20)}!"}`,
      '\ufeff{"kind":"Event"}',
      `{"x":"${'\\u0000'.repeat(1000)}"}`,
      '{"verb": "get", ',
      'time="2026-01-01T00:00:00Z" level=info msg="x"',
      '\u0000\u00ff\ufffd',
    ])
  }
  const record: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: rng.chance(0.9) ? 'audit.k8s.io/v1' : eventValue(rng),
    auditID: rng.chance(0.9) ? `id-${i}` : eventValue(rng),
    stage: 'ResponseComplete',
    stageTimestamp: rng.chance(0.9) ? '2026-01-01T00:00:00.000000Z' : eventValue(rng),
    verb: rng.chance(0.7) ? rng.pick(['get', 'list', 'create']) : eventValue(rng),
    user: rng.chance(0.8) ? { username: rng.pick(['system:admin', 'alice', '']) } : eventValue(rng),
    userAgent: eventValue(rng),
    sourceIPs: eventValue(rng),
    objectRef: rng.chance(0.7) ? { resource: 'secrets', name: eventValue(rng) } : eventValue(rng),
    requestObject: { cmd: eventValue(rng), data: eventValue(rng) },
    responseStatus: { code: eventValue(rng) },
  }
  if (rng.chance(0.1)) record.items = [{ ...record }, eventValue(rng)]
  const text = JSON.stringify(record)
  return rng.chance(0.1) ? mutate(rng, text) : text
}

/** What every fuzzed rule is run on: an ordinary audit event with one long field. */
const PROBE_EVENT: TelemetryEvent = {
  source: 'k8s-audit',
  sourcetype: 'kubernetes:api',
  index: 'containers',
  time: '',
  timeMs: 0,
  raw: { verb: 'get', userAgent: 'a'.repeat(5000) },
  derived: {},
}

describe('fuzzing (seeded, time-bounded)', () => {
  it('Sigma rule files: 0 PURPLE_INTERNAL, none slow', () => {
    const t = fuzz('sigma', 2800, sigmaInput, (text) => {
      const set = parseSigma(text, 'fuzz.yml')
      for (const r of set.rules) r.match(PROBE_EVENT)
    })
    expect(t.failures).toEqual([])
  })

  it('SPL searches: 0 PURPLE_INTERNAL, none slow', () => {
    const t = fuzz('spl', 3200, splInput, (text) => {
      const r = parseSpl(text, 'fuzz.spl')
      r.match(PROBE_EVENT)
    })
    expect(t.failures).toEqual([])
  })

  it('events lines, every source: 0 PURPLE_INTERNAL, none slow', () => {
    const engine = eventEngine()
    const t = fuzz('events', 2400, eventLine, (line) => {
      const source = detectSource(line) ?? 'k8s-audit'
      engine.evaluateLine(line, source, { file: 'fuzz.jsonl', line: 1 })
    })
    expect(t.failures).toEqual([])
  })
})

describe('limits found by fuzzing are coded errors with short messages', () => {
  const sigmaError = (text: string) => {
    try {
      parseSigma(text, 'limits.yml')
    } catch (error) {
      return error as PurpleError
    }
    throw new Error('expected a rule error')
  }
  const splError = (text: string) => {
    try {
      parseSpl(text, 'limits.spl')
    } catch (error) {
      return error as PurpleError
    }
    throw new Error('expected a rule error')
  }

  it('3,000 nested SPL parentheses and NOTs', () => {
    for (const search of [
      `${'('.repeat(3000)}verb=get${')'.repeat(3000)}`,
      `${'NOT '.repeat(3000)}verb=get`,
    ]) {
      const e = splError(search)
      expect(e.code).toBe('PURPLE_RULE_INVALID')
      expect(e.message).toContain('nested deeper than 100')
    }
    expect(parseSpl(`${'('.repeat(50)}verb=get${')'.repeat(50)}`, 'ok.spl').match).toBeTypeOf('function')
  })

  it('deep Sigma conditions', () => {
    const rule = (condition: string) =>
      `title: t\ndetection:\n  sel: {verb: get}\n  condition: '${condition}'\n`
    for (const condition of [`${'not '.repeat(5000)}sel`, `${'('.repeat(3000)}sel${')'.repeat(3000)}`]) {
      const e = sigmaError(rule(condition))
      expect(e.code).toBe('PURPLE_RULE_INVALID')
      expect(e.message).toContain('nested deeper than 100')
      expect(e.message.length).toBeLessThan(1000)
    }
  })

  it('YAML alias bombs and unresolved aliases', () => {
    const bomb = SIGMA_SPECIALS[0]!(createRng(1))
    expect(sigmaError(bomb).message).toContain('YAML cannot be loaded')
    expect(sigmaError(SIGMA_SPECIALS[1]!(createRng(1))).message).toContain('Unresolved alias')
  })

  it('a 5 MB |startswith value, and a 100 KB one, without echoing them', () => {
    const big = (n: number) =>
      `title: t\ndetection:\n  sel:\n    userAgent|startswith: ${'A'.repeat(n)}\n  condition: sel\n`
    const file = sigmaError(big(5 * 2 ** 20))
    expect(file.message).toContain('file is larger than')
    const value = sigmaError(big(100_000))
    expect(value.message).toContain('value longer than 65536 characters')
    expect(value.message.length).toBeLessThan(1000)
  })

  it('megabyte tokens are clipped in SPL messages', () => {
    const e = splError(`verb=get | ${'x'.repeat(500_000)}`)
    expect(e.code).toBe('PURPLE_SPL_UNSUPPORTED')
    expect(e.message.length).toBeLessThan(1000)
  })
})
