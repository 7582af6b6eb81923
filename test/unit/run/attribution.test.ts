import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRules } from '../../../src/detection/load-rules.js'
import { correlate, kubectlTargets } from '../../../src/run/correlate.js'
import type { Recording } from '../../../src/run/record.js'
import { replayRecording } from '../../../src/run/replay.js'
import { exitCodeFor } from '../../../src/run/summary.js'
import { loadScenarios } from '../../../src/scenario/load.js'
import { normalize } from '../../../src/telemetry/normalize.js'

// A recording written here in the real format: a benign docker step whose container prints a canary into
// its own log, and an aws step whose canary key use only the AWS decoy saw. Replayed through the real
// normalizers, correlation, engines and judge.
const T = Date.parse('2026-11-30T10:00:00.000Z')
const iso = (ms: number) => new Date(ms).toISOString()
const CANARY_KEY = 'AKIAPURPLECANARY0001'

async function writeRecording(dir: string, o: { dockerTargets?: string[]; credential?: string } = {}) {
  const rec: Recording = {
    format: 'purplekind.io/recording/v1',
    runId: 'synthetic',
    provider: 'local',
    manifest: {},
    harnessAuditIDs: [],
    telemetry: {},
    steps: [
      {
        scenario: 'registry.decoy-and-logs',
        step: 'start-chatty-container',
        trace: {
          tool: 'docker',
          identity: 'docker',
          sentAt: T,
          endedAt: T + 400,
          auditIDs: [],
          ...(o.dockerTargets ? { targets: o.dockerTargets } : {}),
        },
        exitCode: 0,
        stdout: 'purple-chatty',
        stderr: '',
        canariesRetrieved: [],
        actor: 'docker client (engine socket)',
      },
      {
        scenario: 'registry.decoy-and-logs',
        step: 'use-canary-key',
        trace: {
          tool: 'aws',
          identity: 'aws',
          sentAt: T + 10_000,
          endedAt: T + 11_000,
          auditIDs: [],
          credentials: [o.credential ?? CANARY_KEY],
        },
        exitCode: 0,
        stdout: '{"AccessKeyMetadata": []}',
        stderr: '',
        canariesRetrieved: [],
        actor: 'aws CLI',
      },
    ],
  }
  await mkdir(path.join(dir, 'telemetry'), { recursive: true })
  await writeFile(path.join(dir, 'recording.json'), JSON.stringify(rec))
  const lines = (records: object[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`
  await writeFile(
    path.join(dir, 'telemetry', 'container-logs.jsonl'),
    lines([
      { time: iso(T + 150), container: 'purple-chatty', stream: 'stdout', line: 'starting worker' },
      {
        time: iso(T + 160),
        container: 'purple-chatty',
        stream: 'stdout',
        line: 'AWS_SECRET_ACCESS_KEY=[REDACTED:canary:0123456789ab]',
      },
      // Another container, same window: not this step's.
      { time: iso(T + 170), container: 'purple-other', stream: 'stdout', line: 'password=hunter2' },
    ]),
  )
  await writeFile(
    path.join(dir, 'telemetry', 'decoy-access.jsonl'),
    lines([
      // The harness seeding moto before the run: not a canary, not in any step's window.
      {
        time: iso(T - 60_000),
        decoy: 'aws',
        method: 'POST',
        path: '/',
        service: 'iam',
        action: 'CreateUser',
        credential: 'AKIAPURPLEKINDSEEDER',
        canary: false,
      },
      {
        time: iso(T + 10_400),
        decoy: 'aws',
        method: 'POST',
        path: '/',
        service: 'iam',
        action: 'ListAccessKeys',
        credential: CANARY_KEY,
        canary: true,
      },
    ]),
  )
}

describe('attribution of telemetry outside the audit log', async () => {
  const scenarios = await loadScenarios(['test/fixtures/scenarios/registry'])
  const rules = await loadRules(['detections'])
  const dirs: string[] = []
  const replay = async (o: Parameters<typeof writeRecording>[1]) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-attr-'))
    dirs.push(dir)
    await writeRecording(dir, o)
    return replayRecording(dir, scenarios, rules, 'attr')
  }
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('a container-log rule asserted silent on a step that leaks a canary into its logs fails the run', async () => {
    const r = await replay({ dockerTargets: ['purple-chatty'] })
    const step = r.steps.find((s) => s.step === 'start-chatty-container')
    expect(step?.passed).toBe(false)
    expect(step?.rules).toContain('container-log-credential-leak')
    expect(step?.evidence.map((e) => e.excerpt)).toContain(
      'purple-chatty: AWS_SECRET_ACCESS_KEY=[REDACTED:canary:0123456789ab]',
    )
    // The other container's line in the same window is not this step's.
    expect(step?.evidence.some((e) => e.excerpt.startsWith('purple-other'))).toBe(false)
    expect(exitCodeFor(r.steps)).toBe(1)
  })

  it('without the step naming its container (recordings from before), nothing claims the log line', async () => {
    const r = await replay({})
    const step = r.steps.find((s) => s.step === 'start-chatty-container')
    expect(step?.rules).not.toContain('container-log-credential-leak')
  })

  it('a step whose credential use is visible only at the decoy is DETECTED by the decoy-access rule', async () => {
    const r = await replay({ dockerTargets: ['purple-chatty'] })
    const step = r.steps.find((s) => s.step === 'use-canary-key')
    expect(step).toMatchObject({ verdict: 'DETECTED', rules: ['decoy-canary-credential-used'] })
    expect(step?.evidence.map((e) => e.excerpt)).toEqual([
      `aws POST / (iam ListAccessKeys) with canary credential ${CANARY_KEY} → `,
    ])
    expect(r.telemetry['decoy-access']).toBe(2)
  })

  it('a decoy record of another credential is not the step’s', async () => {
    const r = await replay({ dockerTargets: ['purple-chatty'], credential: 'AKIASOMEONEELSE00001' })
    expect(r.steps.find((s) => s.step === 'use-canary-key')?.verdict).toBe('NOT_LOGGED')
  })
})

describe('kubectl pod targets', () => {
  it.each([
    [['kubectl', 'exec', '-n', 'purple-app', 'web-0', '--', 'cat', '/x'], ['purple-app/web-0']],
    [['kubectl', 'logs', 'pod/web-0', '--namespace=ns1', '--tail', '5'], ['ns1/web-0']],
    [['kubectl', '-n', 'a', 'exec', '-c', 'app', 'web-1', '--', 'sh'], ['a/web-1']],
    [['kubectl', 'exec', 'web-2', '--', 'kubectl', 'logs', 'other'], ['web-2']],
    [['kubectl', 'get', 'pods', 'web-0'], []],
    [['kubectl', 'logs', 'deploy/web'], []],
  ])('%j → %j', (argv, want) => expect(kubectlTargets(argv)).toEqual(want))

  it('ties a CRI pod log line to the kubectl step naming the pod, next to its marker-matched audit events', () => {
    const [line] = normalize('container-logs', {
      time: iso(T + 50),
      container: 'app',
      pod: 'web-0',
      namespace: 'purple-app',
      stream: 'stdout',
      line: 'leaked',
    })
    const [otherPod] = normalize('container-logs', {
      time: iso(T + 60),
      container: 'app',
      pod: 'web-1',
      namespace: 'purple-app',
      stream: 'stdout',
      line: 'x',
    })
    const trace = {
      tool: 'kubectl',
      identity: 'mallory@example.com',
      sentAt: T,
      endedAt: T + 100,
      auditIDs: [],
      targets: ['purple-app/web-0'],
    }
    const r = correlate(trace, [line!, otherPod!], new Set())
    expect(r).toMatchObject({ method: 'window', events: [line] })
  })
})
