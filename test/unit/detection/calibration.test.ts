// The prefilter measures the data it reads (issue 11): literal lists found on most sampled lines are
// dropped, and the scan is dropped when it cannot remove lines; alerts never change.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../../src/detection/engine.js'
import { parseSigma } from '../../../src/detection/sigma/index.js'
import { execImds, secretGet } from './sigma/helpers.js'

let dir: string
let events: string
const LINES = 6000

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'purplekind-calibration-'))
  events = join(dir, 'audit.jsonl')
  // Every line is a `get`; one in 100 is an exec.
  const lines = Array.from({ length: LINES }, (_, i) =>
    JSON.stringify({ ...(i % 100 === 7 ? execImds() : secretGet()), auditID: `id-${i}` }),
  )
  await writeFile(events, `${lines.join('\n')}\n`)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function run(detection: string, prefilter: boolean) {
  const rules = parseSigma(`title: t\nid: t\ndetection:\n${detection}\n`, 't.yml')
  const alerts: number[] = []
  const stats = await new Engine(rules, { prefilter }).evaluateFile(events, { source: 'k8s-audit' }, (a) =>
    alerts.push(a.event!),
  )
  return { alerts, parsed: stats.parsed }
}

describe('prefilter calibration', () => {
  it('requires every AND-ed literal list: only the rare exec lines are parsed', async () => {
    const detection = '  sel:\n    verb: get\n    objectRef.subresource: exec\n  condition: sel'
    const on = await run(detection, true)
    const off = await run(detection, false)
    expect(on.alerts).toEqual(off.alerts)
    expect(on.alerts).toHaveLength(LINES / 100)
    expect(off.parsed).toBe(LINES)
    expect(on.parsed).toBe(LINES / 100)
  })

  it('with a literal on every line, or none at all, every line is parsed and alerts are unchanged', async () => {
    for (const detection of [
      '  sel:\n    verb: get\n  condition: sel', // the literal is on every line
      '  sel:\n    responseStatus.code|gte: 100\n  condition: sel', // no literal at all
    ]) {
      const on = await run(detection, true)
      const off = await run(detection, false)
      expect(on.alerts).toEqual(off.alerts)
      expect(on.parsed).toBe(LINES)
    }
  })

  it('keeps a rare list after dropping a common one from an OR of rules', async () => {
    const detection =
      '  sel:\n    verb: get\n  exec:\n    objectRef.subresource: exec\n  condition: sel and exec'
    const on = await run(detection, true)
    expect(on.alerts).toEqual((await run(detection, false)).alerts)
    expect(on.parsed).toBeLessThanOrEqual(LINES / 100)
  })
})
