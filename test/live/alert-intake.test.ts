// `purplekind run --alerts-listen 0` on the real local lab while this test plays the external SIEM: it
// tails the lab's apiserver audit log (the file, not the harness's own collector), and for each secrets
// request of the scenario's user posts an alert to the intake — Falco-shaped with `ka.auditid` for the
// list, generic without an audit ID for the read — then checks the report ties each to its step.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labPaths } from '../../src/lab/local/config.js'
import { labDir, localProvider } from '../../src/lab/local/index.js'

const LAB = 'intake'
const USER = 'intake-analyst@example.com'
const log = (line: string) => console.log(`[alert-intake] ${line}`)

interface ReportStep {
  step: string
  verdict: string
  rules: string[]
  latencyMs?: number
  correlation: string
  alerts: { rule: string; pipeline: string; correlation?: string; auditID?: string; alertTime: string }[]
}

interface AuditLine {
  auditID: string
  stage: string
  verb: string
  stageTimestamp: string
  requestReceivedTimestamp: string
  user?: { username?: string }
  impersonatedUser?: { username?: string }
  objectRef?: { resource?: string; name?: string }
}

/** The external pipeline: reads new audit log lines and posts one alert per matching request. */
class FakeSiem {
  posted: { kind: string; auditID: string; status: number }[] = []
  #offset = 0
  #seen = new Set<string>()
  constructor(
    private readonly file: string,
    private readonly since: number,
  ) {
    this.#offset = existsSync(file) ? statSync(file).size : 0
  }

  async poll(intake: { url: string; token: string }): Promise<void> {
    if (!existsSync(this.file)) return
    const size = statSync(this.file).size
    if (size < this.#offset) this.#offset = 0 // the lab came up afresh
    if (size === this.#offset) return
    const text = readFileSync(this.file).subarray(this.#offset, size).toString('utf8')
    const complete = text.slice(0, text.lastIndexOf('\n') + 1)
    this.#offset += Buffer.byteLength(complete)
    for (const line of complete.split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as AuditLine
      const who = e.impersonatedUser?.username ?? e.user?.username
      if (who !== USER || e.objectRef?.resource !== 'secrets' || e.stage !== 'ResponseComplete') continue
      if (Date.parse(e.requestReceivedTimestamp) < this.since || this.#seen.has(e.auditID)) continue
      this.#seen.add(e.auditID)
      if (e.verb === 'list') await this.#post(intake, 'falco', e, falcoAlert(e))
      if (e.verb === 'get') await this.#post(intake, 'generic', e, genericAlert(e), '&pipeline=splunk')
    }
  }

  async #post(
    intake: { url: string; token: string },
    kind: string,
    e: AuditLine,
    body: object,
    query = '',
  ): Promise<void> {
    // Falco's http_output cannot add headers: the token rides in the query, as the README shows.
    const r = await fetch(`${intake.url}?token=${encodeURIComponent(intake.token)}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    this.posted.push({ kind, auditID: e.auditID, status: r.status })
  }
}

function falcoAlert(e: AuditLine): object {
  return {
    hostname: 'fake-falco',
    priority: 'Warning',
    rule: 'external-secrets-list',
    source: 'k8s_audit',
    tags: ['k8s', 'T1552.007'],
    time: e.stageTimestamp,
    output: `Warning secrets listed (user=${USER})`,
    output_fields: { 'ka.auditid': e.auditID, 'ka.user.name': USER, 'ka.target.resource': 'secrets' },
  }
}

function genericAlert(e: AuditLine): object {
  return { rule: 'external-secret-read', time: e.stageTimestamp, title: 'Secret read', level: 'high' }
}

interface RunOutcome {
  exitCode: number | undefined
  stderr: string
  steps: ReportStep[]
  siem: FakeSiem
}

/** Runs the fixture scenario with the intake on, while the fake SIEM posts alerts to it. */
async function runWithSiem(dir: string, extra: string[]): Promise<RunOutcome> {
  const siem = new FakeSiem(labPaths(labDir(LAB)).auditLog, Date.now())
  const reports = path.join(dir, `reports${extra.join('')}`)
  const run = execa(
    'node',
    [
      'dist/cli/main.js',
      'run',
      '--env',
      'local',
      '--lab',
      LAB,
      '--reports',
      reports,
      '--alerts-listen',
      '0',
      ...extra,
      'test/fixtures/scenarios/intake',
    ],
    { reject: false, env: { NO_COLOR: '1' }, timeout: 600_000 },
  )
  let stderr = ''
  run.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  let intake: { url: string; token: string } | undefined
  let finished = false
  void run.finally(() => {
    finished = true
  })
  const t0 = Date.now()
  while (!finished) {
    if (!intake) {
      const url = /alert intake: POST (\S+)/.exec(stderr)?.[1]
      const file = /token in (\S+)/.exec(stderr)?.[1]
      if (url && file) {
        intake = { url, token: (await readFile(file, 'utf8')).trim() }
        log(`intake at ${url} after ${Date.now() - t0} ms`)
      }
    } else await siem.poll(intake)
    await sleep(50)
  }
  const { exitCode } = await run
  const reportFile = path.join(reports, 'latest', 'report.json')
  if (!existsSync(reportFile)) throw new Error(`no report.json; exit ${exitCode}\n${stderr.slice(-3000)}`)
  const steps = (JSON.parse(readFileSync(reportFile, 'utf8')) as { steps: ReportStep[] }).steps
  log(`${extra.join(' ') || '(builtin too)'} posted: ${JSON.stringify(siem.posted)}`)
  for (const s of steps) log(`${s.step}: ${s.verdict} latency=${s.latencyMs} ms rules=${s.rules.join(',')}`)
  return { exitCode, stderr, steps, siem }
}

describe('external alert intake on the local lab', () => {
  let dir = ''
  let mixed: RunOutcome
  let externalOnly: RunOutcome

  beforeAll(async () => {
    const available = await localProvider.available()
    if (!available.ok)
      throw new Error(`local lab unavailable: ${available.reason} (run scripts/setup.sh as root)`)
    dir = await mkdtemp(path.join(tmpdir(), 'purplekind-intake-'))
    mixed = await runWithSiem(dir, [])
    externalOnly = await runWithSiem(dir, ['--no-builtin'])
  })

  afterAll(async () => {
    await localProvider.down({ name: LAB, log: () => undefined })
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('warns (not fails) about expected rules that are not loaded locally, and exits 0', () => {
    for (const r of [mixed, externalOnly]) {
      expect(r.stderr).toMatch(/external-secrets-list.*not loaded locally/)
      expect(r.exitCode, r.stderr.slice(-2000)).toBe(0)
      expect(r.siem.posted.map((p) => [p.kind, p.status]).sort()).toEqual([
        ['falco', 202],
        ['generic', 202],
      ])
    }
  })

  it('the Falco alert naming the audit ID makes the list step DETECTED, linked by audit-id', () => {
    const s = mixed.steps.find((x) => x.step === 'list-secrets')
    expect(s?.verdict).toBe('DETECTED')
    expect(s?.rules).toContain('external-secrets-list')
    const ext = s?.alerts.find((a) => a.rule === 'external-secrets-list')
    const falco = mixed.siem.posted.find((p) => p.kind === 'falco')
    expect(ext).toMatchObject({ pipeline: 'falco', correlation: 'audit-id', auditID: falco?.auditID })
    expect(s?.latencyMs).toBeGreaterThan(0)
    expect(s?.latencyMs).toBeLessThan(10_000)
    // Next to the built-in engines' alerts on the same step.
    expect(s?.alerts.some((a) => a.pipeline === 'builtin')).toBe(true)
  })

  it('the generic alert with only a time is attributed to the read step by window', () => {
    const s = mixed.steps.find((x) => x.step === 'read-secret')
    expect(s?.verdict).toBe('DETECTED')
    const ext = s?.alerts.find((a) => a.rule === 'external-secret-read')
    expect(ext).toMatchObject({ pipeline: 'splunk', correlation: 'window' })
    // Not also counted for the list step.
    expect(mixed.steps.find((x) => x.step === 'list-secrets')?.rules).not.toContain('external-secret-read')
  })

  it('--no-builtin: the verdicts rest on the external alerts alone', () => {
    expect(externalOnly.steps.map((s) => [s.step, s.verdict, s.rules])).toEqual([
      ['list-secrets', 'DETECTED', ['external-secrets-list']],
      ['read-secret', 'DETECTED', ['external-secret-read']],
    ])
    expect(externalOnly.steps.flatMap((s) => s.alerts).every((a) => a.pipeline !== 'builtin')).toBe(true)
  })
})
