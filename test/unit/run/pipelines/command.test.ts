import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadRules } from '../../../../src/detection/load-rules.js'
import type { Alert } from '../../../../src/detection/types.js'
import { PurpleError } from '../../../../src/errors.js'
import { CommandPipeline, commandArgv, MAX_LINE_BYTES } from '../../../../src/run/pipelines/command.js'
import { createPipelines, parsePipelineSpec } from '../../../../src/run/pipelines/index.js'
import type { PipelineHost } from '../../../../src/run/pipelines/pipeline.js'
import { replayRecording } from '../../../../src/run/replay.js'
import type { RunResult } from '../../../../src/run/result.js'
import { loadScenarios } from '../../../../src/scenario/load.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'
import { normalize } from '../../../../src/telemetry/normalize.js'

const RECORDING = 'test/fixtures/recordings/t1552.007-local'
const FIXTURES = 'test/fixtures/pipelines'
const PYTOOLS = process.env.PURPLEKIND_PYTOOLS ?? '/opt/purplekind/pytools'
const PYTHON = `${PYTOOLS}/bin/python`
const hasPython3 = existsSync('/usr/bin/python3')

const verdicts = (r: RunResult) =>
  r.steps.map((s) => `${s.scenario}/${s.step}: ${s.verdict} [${[...new Set(s.rules)].sort().join(',')}]`)

function audit(i: number, verb = 'list'): TelemetryEvent {
  return normalize('k8s-audit', {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    auditID: `id-${i}`,
    stage: 'ResponseComplete',
    verb,
    user: { username: 'mallory@example.com' },
    objectRef: { resource: 'secrets' },
    responseStatus: { code: 200 },
    stageTimestamp: new Date(1_700_000_000_000 + i).toISOString(),
  })[0] as TelemetryEvent
}

/** A host that records what the pipeline does (the real interface, no bus). */
function host(): PipelineHost & { alerts: Alert[]; problems: string[]; push(e: TelemetryEvent): void } {
  const listeners: ((e: TelemetryEvent) => void)[] = []
  const events: TelemetryEvent[] = []
  const alerts: Alert[] = []
  const problems: string[] = []
  return {
    events,
    alerts,
    problems,
    onEvent: (l) => listeners.push(l),
    addAlert: (a) => alerts.push(a),
    alertTime: (e) => e?.time ?? new Date().toISOString(),
    problem: (m) => problems.push(m),
    push(e) {
      events.push(e)
      for (const l of listeners) l(e)
    },
  }
}

async function runProgram(script: string, events: TelemetryEvent[]) {
  const h = host()
  const p = new CommandPipeline({ argv: [process.execPath, '-e', script], settleTimeoutMs: 20_000 })
  await p.attach(h)
  for (const e of events) h.push(e)
  await p.settle()
  await p.stop()
  return { h, p }
}

describe('command pipeline: the same verdicts as builtin, from a real external program', async () => {
  const scenarios = await loadScenarios(['scenarios/t1552.007'])

  it('plain-Python matcher (stdlib only) agrees with builtin on the two rules it implements', async (ctx) => {
    if (!hasPython3) {
      console.log('skipped: /usr/bin/python3 is not installed')
      return ctx.skip()
    }
    const all = await loadRules(['detections/sigma'])
    const implemented = new Set(['k8s-secrets-list-by-human', 'k8s-secret-read-by-human'])
    const ruleSet = { rules: all.rules.filter((r) => implemented.has(r.id)), correlations: [] }
    const builtin = await replayRecording(RECORDING, scenarios, ruleSet, 'builtin')
    const pipelines = createPipelines([`command=python3 ${FIXTURES}/stdlib_matcher.py`], {
      ruleSet,
      live: false,
      log: () => undefined,
    })
    const command = await replayRecording(RECORDING, scenarios, ruleSet, 'command', pipelines)
    expect(verdicts(command)).toEqual(verdicts(builtin))
    const listAll = command.steps.find((s) => s.step === 'list-all-namespaces')
    // The scenario also wants analytic-b (not loaded here): the program's alert is there, the verdict agrees.
    expect(listAll?.rules).toEqual(['k8s-secrets-list-by-human'])
    expect(command.steps.filter((s) => s.verdict === 'DETECTED').length).toBeGreaterThan(0)
    expect(command.findings.filter((f) => f.kind === 'pipeline-problem')).toEqual([])
  })

  it('pySigma matcher (pySigma + SQLite backend) agrees with builtin on every Sigma detection rule', async (ctx) => {
    if (!existsSync(PYTHON)) {
      console.log(`skipped: ${PYTOOLS} is absent (scripts/pytools.sh installs pySigma there; CI runs it)`)
      return ctx.skip()
    }
    // The program implements detection rules, not correlations: compare on those.
    const ruleSet = { ...(await loadRules(['detections/sigma'])), correlations: [] }
    const builtin = await replayRecording(RECORDING, scenarios, ruleSet, 'builtin')
    const pipelines = createPipelines(
      [`command=${JSON.stringify([PYTHON, `${FIXTURES}/pysigma_matcher.py`, 'detections/sigma'])}`],
      { ruleSet, live: false, log: () => undefined },
    )
    const command = await replayRecording(RECORDING, scenarios, ruleSet, 'command', pipelines)
    expect(verdicts(command)).toEqual(verdicts(builtin))
    expect(command.summary.detected).toBeGreaterThan(2)
    expect(command.findings.filter((f) => f.kind === 'pipeline-problem')).toEqual([])
  }, 120_000)
})

describe('command pipeline protocol', () => {
  it('ties an alert to the event named by seq or audit ID, with the event time offline', async () => {
    const { h, p } = await runProgram(
      `require('readline').createInterface({input: process.stdin}).on('line', (l) => {
        const e = JSON.parse(l)
        if (e.seq === 1) console.log(JSON.stringify({rule: 'by-seq', seq: 1, level: 'high'}))
        if (e.seq === 2) console.log(JSON.stringify({rule: 'by-audit-id', auditID: e.auditID}))
      })`,
      [audit(0), audit(1), audit(2)],
    )
    expect(h.alerts.map((a) => [a.rule, a.evidence?.auditID, a.pipeline, a.alertTime])).toEqual([
      ['by-seq', 'id-1', 'command', h.events[1]?.time],
      ['by-audit-id', 'id-2', 'command', h.events[2]?.time],
    ])
    expect(p.stats).toMatchObject({ eventsSent: 3, alerts: 2, malformedLines: 0 })
    expect(h.problems).toEqual([])
  })

  it('counts and reports malformed and over-long lines, and alerts that name no event', async () => {
    const { h, p } = await runProgram(
      `process.stdin.resume(); process.stdin.on('end', () => {
        process.stdout.write('not json\\n[1]\\n{"norule":1}\\n{"rule":"x","seq":99}\\n')
        process.stdout.write('{"rule":"' + 'y'.repeat(${MAX_LINE_BYTES + 10}) + '"}\\n')
        process.stdout.write('{"rule":"floating"}\\n{"rule":"ok","seq":0}\\n')
      })`,
      [audit(0)],
    )
    expect(p.stats).toMatchObject({ malformedLines: 5, alerts: 2, unattributed: 1 })
    expect(h.alerts.map((a) => a.rule)).toEqual(['floating', 'ok'])
    expect(h.problems.join('\n')).toMatch(/5 output line\(s\) were not alerts .*first: not JSON: not json/)
    expect(h.problems.join('\n')).toMatch(/1 alert\(s\) named no event/)
  })

  it('reports a program that exits early or fails, with its stderr', async () => {
    const { h } = await runProgram(`console.error('rules dir missing'); process.exit(3)`, [audit(0)])
    expect(h.problems.join('\n')).toMatch(/exit code 3: rules dir missing/)
  })

  it('kills a program that ignores the end of its input and SIGTERM on stop', async () => {
    const h = host()
    const p = new CommandPipeline({
      argv: [process.execPath, '-e', `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)`],
    })
    await p.attach(h)
    const started = Date.now()
    await p.stop()
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('a program that cannot start is a coded error naming it', async () => {
    const p = new CommandPipeline({ argv: ['/nonexistent/detector'] })
    const e = await p.attach(host()).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(PurpleError)
    expect(e).toMatchObject({ code: 'PURPLE_COMMAND_FAILED', message: expect.stringMatching(/nonexistent/) })
  })

  it('parses --pipeline specs and refuses unknown ones', () => {
    expect(parsePipelineSpec('command=python3 x.py a=b')).toEqual({
      name: 'command',
      arg: 'python3 x.py a=b',
    })
    expect(commandArgv('["my prog", "--x"]')).toEqual(['my prog', '--x'])
    expect(commandArgv('python3  x.py')).toEqual(['python3', 'x.py'])
    expect(() => commandArgv('')).toThrow(/needs a program/)
    expect(() => parsePipelineSpec('splunk')).toThrow(/unknown pipeline "splunk"/)
    const ctx = { ruleSet: { rules: [], correlations: [] }, live: false, log: () => undefined }
    expect(() => createPipelines(['http=8080'], ctx)).toThrow(/needs a live run/)
    expect(() => createPipelines(['builtin', 'builtin'], ctx)).toThrow(/given twice/)
  })
})
