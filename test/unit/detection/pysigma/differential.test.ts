// Differential test against pySigma (issue 11): the same Sigma rules are converted by pySigma's SQLite
// backend and run in an in-memory SQLite database (sigma_sqlite.py), and compiled by purplekind's engine,
// over the same generated events; the sets of matching events must be equal. Needs the venv that
// scripts/pytools.sh creates (CI runs it); without it the test prints why and skips.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createRng } from '../../../../src/bench/generate.js'
import { parseSigma } from '../../../../src/detection/sigma/index.js'
import { auditEvent } from '../sigma/helpers.js'

const PYTHON = `${process.env.PURPLEKIND_PYTOOLS ?? '/opt/purplekind/pytools'}/bin/python`
const SCRIPT = fileURLToPath(new URL('sigma_sqlite.py', import.meta.url))
const available = existsSync(PYTHON)
if (!available) console.log(`pySigma differential test skipped: ${PYTHON} not found (run scripts/pytools.sh)`)

/** Detection sections (YAML, indented by the caller). */
const DETECTIONS: Record<string, string> = {
  eq: 'sel:\n  verb: list\ncondition: sel',
  'eq-list': 'sel:\n  verb: [get, list]\ncondition: sel',
  'eq-case': 'sel:\n  verb: GET\ncondition: sel',
  'eq-dotted': 'sel:\n  objectRef.resource: secrets\ncondition: sel',
  contains: 'sel:\n  userAgent|contains: python\ncondition: sel',
  'contains-list': 'sel:\n  objectRef.name|contains: [token, cred]\ncondition: sel',
  startswith: 'sel:\n  userAgent|startswith: kubectl/\ncondition: sel',
  endswith: 'sel:\n  objectRef.name|endswith: -db\ncondition: sel',
  'endswith-list': "sel:\n  userAgent|endswith: [')', '.0']\ncondition: sel",
  'wildcard-star': "sel:\n  userAgent: 'kubectl/v1.2*'\ncondition: sel",
  'wildcard-middle': "sel:\n  cmd: 'powershell*enc*'\ncondition: sel",
  'wildcard-question': "sel:\n  objectRef.name: 'web-?'\ncondition: sel",
  'escaped-star': "sel:\n  userAgent|contains: 'v1\\*'\ncondition: sel",
  all: 'sel:\n  cmd|contains|all: [psexec, cmd]\ncondition: sel',
  cased: 'sel:\n  verb|cased: GET\ncondition: sel',
  re: "sel:\n  userAgent|re: '^kubectl/v1\\.(1[0-9]|2[0-5])\\.'\ncondition: sel",
  're-i': "sel:\n  userAgent|re|i: 'MOZILLA'\ncondition: sel",
  're-dot': "sel:\n  cmd|re: 'bash.-c'\ncondition: sel",
  're-class': "sel:\n  objectRef.name|re: '^[a-z]+-[0-9a-f]{3}$'\ncondition: sel",
  cidr: 'sel:\n  sourceIP|cidr: 10.0.0.0/8\ncondition: sel',
  'cidr-list': 'sel:\n  sourceIP|cidr: [192.168.0.0/16, 172.16.0.0/12]\ncondition: sel',
  windash: "sel:\n  cmd|windash|contains: ' -s -i '\ncondition: sel",
  'windash-one': "sel:\n  cmd|windash|contains: ' -enc '\ncondition: sel",
  base64: "sel:\n  data|base64|contains: 'secret-token'\ncondition: sel",
  base64offset: "sel:\n  data|base64offset|contains: 'aws creds'\ncondition: sel",
  'wide-base64offset': "sel:\n  data|wide|base64offset|contains: 'cmd'\ncondition: sel",
  null: 'sel:\n  reason: null\ncondition: sel',
  'not-null': 'sel:\n  reason: null\ncondition: not sel',
  empty: "sel:\n  reason: ''\ncondition: sel",
  'exists-true': 'sel:\n  objectRef.name|exists: true\ncondition: sel',
  'exists-false': 'sel:\n  objectRef.namespace|exists: false\ncondition: sel',
  gte: 'sel:\n  code|gte: 400\ncondition: sel',
  lt: 'sel:\n  code|lt: 300\ncondition: sel',
  'eq-number': 'sel:\n  code: 403\ncondition: sel',
  bool: 'sel:\n  flag: true\ncondition: sel',
  neq: 'sel:\n  verb|neq: get\n  objectRef.resource: secrets\ncondition: sel',
  keyword: 'keywords:\n  - canary\ncondition: keywords',
  'keyword-wildcard': "keywords:\n  - 'aws*creds'\ncondition: keywords",
  'keyword-list': 'keywords:\n  - psexec\n  - Mozilla\ncondition: keywords',
  'and-not':
    'sel:\n  verb: list\n  objectRef.resource: secrets\nfilter:\n  objectRef.namespace: kube-system\ncondition: sel and not filter',
  'one-of': 'sel_a:\n  verb: delete\nsel_b:\n  code: 401\ncondition: 1 of sel_*',
  'all-of': 'sel_a:\n  verb: [get, list]\nsel_b:\n  objectRef.resource: secrets\ncondition: all of sel_*',
  'one-of-them': 'a:\n  userAgent|startswith: curl\nb:\n  cmd|contains: bash\ncondition: 1 of them',
  'paren-not':
    'a:\n  verb: create\nb:\n  verb: patch\nc:\n  objectRef.namespace: default\ncondition: (a or b) and not c',
  'list-of-maps':
    'sel:\n  - verb: delete\n    objectRef.resource: pods\n  - verb: create\n    code: 201\ncondition: sel',
  'not-not': 'a:\n  verb: get\ncondition: not not a',
  fieldref: 'sel:\n  objectRef.name|fieldref: objectRef.namespace\ncondition: sel',
}

/** pySigma wants UUID ids: one per rule, derived from its position. */
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

function ruleYaml(id: string, name: string, detection: string): string {
  const body = detection
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
  return `title: '${name}'\nid: ${id}\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n${body}\n`
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64')

/** Scalar-valued events (SQLite has no arrays), with absent, null and empty fields, mixed case, etc. */
function generateEvents(count: number): Record<string, unknown>[] {
  const rng = createRng(8_011)
  const maybe = <T>(p: number, v: T) => (rng.chance(p) ? v : undefined)
  const phrases = ['secret-token', 'get aws creds', 'run cmd now', 'harmless text']
  return Array.from({ length: count }, () => {
    const phrase = rng.pick(phrases)
    const pad = 'x'.repeat(rng.int(3))
    const objectRef = Object.fromEntries(
      Object.entries({
        resource: rng.pick(['secrets', 'pods', 'configmaps', 'Secrets', '']),
        namespace: maybe(0.8, rng.pick(['default', 'kube-system', 't1552', 'web-1'])),
        name: maybe(
          0.7,
          rng.pick(['canary-db', 'token-abc', 'aws-creds', 'web-1', 'web-12', 'Web-x', 'db-f00']),
        ),
      }).filter(([, v]) => v !== undefined),
    )
    const event: Record<string, unknown> = {
      verb: rng.pick(['get', 'list', 'create', 'delete', 'patch', 'GET', 'List']),
      objectRef,
      userAgent: rng.pick([
        'kubectl/v1.24.1 (linux/amd64)',
        'kubectl/v1.30.0',
        'KUBECTL/v1.19.2',
        'curl/8.5.0',
        'python-requests/2.31',
        'Mozilla/5.0 (X11)',
        'v1*star',
        '',
      ]),
      sourceIP: rng.pick(['10.1.2.3', '192.168.5.4', '172.18.0.1', '172.32.0.1', '8.8.8.8', '11.0.0.1']),
      code: rng.pick([200, 201, 401, 403, 404, 500]),
      cmd: rng.pick([
        'psexec -s -i cmd',
        'psexec /s /i cmd',
        'psexec -s /i cmd',
        'psexec \u2013s \u2014i cmd',
        'powershell -enc SQBFAFgA',
        'powershell /enc AAA',
        'powershell -nop',
        'bash -c id',
        'bash\r-c id',
        'bash\n-c id',
      ]),
      data: rng.chance(0.5) ? b64(pad + phrase) : b64(Buffer.from(pad + phrase, 'utf16le')),
      flag: rng.pick([true, false, 'true', 'no']),
      reason: rng.pick([null, '', 'RBAC: allowed', undefined]),
      note: maybe(0.1, 'the CANARY was read'),
    }
    for (const [k, v] of Object.entries(event)) if (v === undefined) delete event[k]
    return event
  })
}

describe.skipIf(!available)('pySigma differential (SQLite backend)', () => {
  it('purplekind matches exactly the events pySigma does, rule by rule', () => {
    const events = generateEvents(400)
    const rules = Object.entries(DETECTIONS).map(([name, d], n) => ({
      id: uuid(n),
      name,
      yaml: ruleYaml(uuid(n), name, d),
    }))
    const input = JSON.stringify({ rules, events: events.map((raw) => ({ raw, text: JSON.stringify(raw) })) })
    const run = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 << 20 })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const reference = JSON.parse(run.stdout) as Record<string, number[] | { error: string }>

    const agreed: string[] = []
    const unconverted: string[] = []
    const disagreements: string[] = []
    for (const { id, name, yaml } of rules) {
      const expected = reference[id]
      if (!Array.isArray(expected)) {
        unconverted.push(`${name} (${expected?.error})`)
        continue
      }
      const rule = parseSigma(yaml, `${id}.yml`).rules[0]!
      const actual = events.flatMap((raw, i) => (rule.match(auditEvent(raw)) ? [i] : []))
      if (JSON.stringify(actual) === JSON.stringify(expected)) agreed.push(id)
      else {
        const only = (a: number[], b: number[]) => a.filter((i) => !b.includes(i)).slice(0, 3)
        const show = (i: number) => JSON.stringify(events[i])
        disagreements.push(
          `${name}: purplekind ${actual.length}, pySigma ${expected.length}; ` +
            `only purplekind: ${only(actual, expected).map(show).join(' ')}; ` +
            `only pySigma: ${only(expected, actual).map(show).join(' ')}`,
        )
      }
    }
    console.log(
      `pySigma differential: ${agreed.length}/${rules.length} rules agree over ${events.length} events` +
        (unconverted.length ? `; not convertible by pySigma: ${unconverted.join(', ')}` : ''),
    )
    expect(disagreements).toEqual([])
    // The comparison must be meaningful: nearly every rule converted, and rules actually match something.
    expect(agreed.length).toBeGreaterThanOrEqual(rules.length - 2)
    const matching = agreed.filter((id) => (reference[id] as number[]).length > 0).length
    expect(matching).toBeGreaterThanOrEqual(agreed.length - 2)
  })
})
