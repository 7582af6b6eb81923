import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { loadRules } from '../../../src/detection/load-rules.js'
import { LAB_PROVIDERS } from '../../../src/lab/registry.js'
import { renderNavigatorLayer } from '../../../src/report/navigator.js'
import { readRecording } from '../../../src/run/record.js'
import { replayRecording } from '../../../src/run/replay.js'
import { exitCodeFor } from '../../../src/run/summary.js'
import { loadScenarios } from '../../../src/scenario/load.js'

// A T1552.007 run recorded from the real local lab (`purplekind run --record`), replayed with no lab:
// today's rules and scenarios must reach the same verdicts the live run did.
const RECORDING = 'test/fixtures/recordings/t1552.007-local'

describe('offline replay of a recorded T1552.007 run', async () => {
  const scenarios = await loadScenarios(['scenarios/t1552.007'])
  const rules = await loadRules(['detections'])
  const result = await replayRecording(RECORDING, scenarios, rules, 'replay-test')

  it('re-asserts every recorded step and meets every expectation', () => {
    const rec = result.steps.map((s) => `${s.scenario}/${s.step}: ${s.verdict}`)
    expect(rec.length).toBeGreaterThanOrEqual(23)
    expect(result.steps.filter((s) => !s.passed)).toEqual([])
    expect(exitCodeFor(result.steps)).toBe(0)
    expect(result.summary).toMatchObject({ missed: 0, falsePositives: 0 })
  })

  it("says it was a replay, not a lab run, and names the recording's own lab in the manifest", async () => {
    const rec = await readRecording(RECORDING)
    expect(result.provider).toBe('replay')
    expect(result.lab).toBe(`replay of ${rec.runId}`)
    expect(result.manifest).toMatchObject({ recordedRun: rec.runId, recordedProvider: rec.provider })
    expect(LAB_PROVIDERS.map((p) => p.name)).not.toContain(result.provider)
  })

  it('gives every defined step a result: the step the recording lab skipped is SKIPPED, not omitted', () => {
    const defined = scenarios.flatMap((s) => s.steps.map((st) => `${s.metadata.id}/${st.id}`))
    expect(result.steps.map((s) => `${s.scenario}/${s.step}`)).toEqual(defined)
    expect(result.summary).toMatchObject({ steps: defined.length, skipped: 1, notRecorded: 0 })
    expect(result.steps.find((s) => s.step === 'imds-blocked')).toMatchObject({
      verdict: 'SKIPPED',
      passed: true,
      explanation: 'skipped when recorded: the local lab lacks networkPolicy',
    })
  })

  it("carries each step's own techniques: a docker create is T1610, not the scenario's T1078", () => {
    const step = (id: string) => result.steps.find((s) => s.step === id)!
    expect(step('docker-create-container').techniques).toEqual(['T1610'])
    expect(step('read-token').techniques).toEqual(['T1552.007', 'T1609'])
    expect(step('human-creates-secret').techniques).toEqual(['T1552.007', 'T1078'])
    const layer = JSON.parse(renderNavigatorLayer(result))
    const t1609 = layer.techniques.filter((t: { techniqueID: string }) => t.techniqueID === 'T1609')
    expect(t1609.map((t: { tactic: string }) => t.tactic)).toEqual(['execution'])
  })

  it('makes a step the recording never saw a NOT_RECORDED gap (exit 1)', async () => {
    const [extra] = await loadScenarios(['test/fixtures/scenarios/valid-minimal.yaml'])
    const r = await replayRecording(RECORDING, [...scenarios, extra!], rules, 'replay-gap')
    expect(r.steps.at(-1)).toMatchObject({
      scenario: 'minimal',
      step: 'list',
      verdict: 'NOT_RECORDED',
      passed: false,
    })
    expect(r.summary.notRecorded).toBe(1)
    expect(exitCodeFor(r.steps)).toBe(1)
  })

  it('refuses a recording that matches none of the scenarios', async () => {
    const only = await loadScenarios(['test/fixtures/scenarios/valid-minimal.yaml'])
    await expect(replayRecording(RECORDING, only, rules, 'replay-none')).rejects.toThrow(
      /matches none of the given scenarios/,
    )
  })

  it('ties each seed procedure to its telemetry and the rules that caught it', () => {
    const step = (id: string) => result.steps.find((s) => s.step === id)!
    expect(step('list-all-namespaces')).toMatchObject({
      verdict: 'DETECTED',
      correlation: 'marker',
      rules: expect.arrayContaining(['analytic-b', 'k8s-secrets-list-by-human']),
    })
    expect(step('controller-lists-own-namespace')).toMatchObject({
      verdict: 'PASSED_BENIGN',
      correlation: 'audit-id',
    })
    expect(step('least-privilege-user')).toMatchObject({ verdict: 'BLOCKED' })
    expect(step('read-token').rules).toContain('k8s-exec-read-sa-token')
    expect(step('use-token').rules).toContain('k8s-sa-token-used-by-kubectl')
    expect(step('imds-list-role').rules).toEqual(
      expect.arrayContaining(['analytic-b', 'k8s-exec-imds-credentials']),
    )
    expect(step('aws-list-access-keys').rules).toEqual(
      expect.arrayContaining(['analytic-b', 'k8s-exec-cloud-identity-discovery']),
    )
    expect(step('az-sp-list').rules).toEqual(
      expect.arrayContaining(['analytic-b', 'k8s-exec-cloud-identity-discovery']),
    )
    expect(step('logs-of-leaky-container').rules).toContain('docker-logs-of-leaky-container')
    expect(step('logs-of-quiet-container').rules).not.toContain('docker-logs-of-leaky-container')
    expect(step('docker-create-container').rules).toContain('docker-container-created-via-api')
  })

  it('reports the seed analytics that cannot fire on real telemetry as findings', () => {
    expect(result.findings.map((f) => f.message).join('\n')).toMatch(
      /analytic-b cannot fire on this telemetry: Analytic B matches the literal command "kubectl describe secret"/,
    )
    expect(result.findings.map((f) => f.message).join('\n')).toMatch(
      /analytic-a cannot fire on this telemetry: Analytic A's Docker clause needs user!="root"/,
    )
  })

  it('fails the replay when a rule regresses (the replay is a real check)', async () => {
    const withoutSigma = await loadRules(['detections/seed'])
    const broken = await replayRecording(
      RECORDING,
      scenarios,
      { rules: withoutSigma.rules, correlations: [] },
      'replay-broken',
    ).catch((e: unknown) => e)
    // Scenarios name rules that are gone: the steps that needed them are now gaps.
    const r = broken as Awaited<ReturnType<typeof replayRecording>>
    expect(r.steps.some((s) => s.verdict === 'LOGGED_NOT_ALERTED')).toBe(true)
    expect(exitCodeFor(r.steps)).toBe(1)
  })

  it('holds only redacted values (fingerprints, not canaries)', async () => {
    const text = await readFile(`${RECORDING}/telemetry/container-logs.jsonl`, 'utf8')
    expect(text).toMatch(/AWS_SECRET_ACCESS_KEY=\[REDACTED:canary:[0-9a-f]{12}\]/)
    expect((await readRecording(RECORDING)).format).toBe('purplekind.io/recording/v1')
  })
})

describe('noise findings', () => {
  it('names rules that fired on benign steps without being asserted silent', async () => {
    const scenarios = await loadScenarios(['scenarios/t1552.007'])
    const result = await replayRecording(
      RECORDING,
      scenarios,
      await loadRules(['detections']),
      'replay-noise',
    )
    expect(result.findings).toContainEqual({
      kind: 'noisy-rule',
      step: 't1552.007.exec-sa-token/read-hostname',
      rule: 'analytic-b',
      message: expect.stringMatching(
        /^rule analytic-b fired on benign step .*read-hostname, which does not assert it silent/,
      ),
    })
    expect(result.findings[0]!.kind).toBe('noisy-rule') // noise is listed first
    const hostname = result.steps.find((s) => s.step === 'read-hostname')!
    expect(hostname).toMatchObject({ verdict: 'NOISY', passed: true })
    expect(result.summary.noisy).toBeGreaterThan(0)
  })
})
