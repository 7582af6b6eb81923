import { describe, expect, it } from 'vitest'
import { renderMarkdown } from '../../../src/report/markdown.js'
import { code, fence, mdText } from '../../../src/report/markdown-text.js'
import { VERDICTS } from '../../../src/run/result.js'
import { SOURCES } from '../../../src/telemetry/event.js'
import { RUN_ID, runResult } from '../../fixtures/report/run-result.js'
import { section, tableAfter } from './md-table.js'

const md = renderMarkdown(runResult())

describe('renderMarkdown', () => {
  it('is deterministic for a fixed result', () => {
    expect(renderMarkdown(runResult())).toBe(md)
  })

  it('titles the report with the run id and lab, and gives a one-line verdict', () => {
    expect(md.startsWith(`# purplekind run \`${RUN_ID}\`\n`)).toBe(true)
    expect(md).toContain('**Lab:** `purplekind-local`')
    expect(md).toContain(
      '**❌ 6 gaps** in 13 steps, 1 skipped: LOGGED_NOT_ALERTED×1, NOT_LOGGED×1, ACTION_FAILED×1, NOT_RECORDED×1, NOT_RUN×1, FALSE_POSITIVE×1',
    )
  })

  it('says "simulated pods" in the header of a run whose pods were simulated, and only then', () => {
    const simulated = runResult()
    simulated.manifest = { ...simulated.manifest, pods: 'simulated (kwok): exec runs in a host sandbox' }
    const header = renderMarkdown(simulated).split('\n').slice(0, 4).join('\n')
    expect(header).toContain('**simulated pods**')
    const real = runResult()
    real.manifest = { ...real.manifest, pods: 'real containers (purplekind/workload:1)' }
    expect(renderMarkdown(real)).not.toContain('simulated pods')
  })

  it('says all expectations were met when every step passed', () => {
    const result = runResult()
    result.steps = result.steps.map((s) => ({ ...s, passed: true }))
    expect(renderMarkdown(result)).toContain('**✅ all expectations met** (13 steps, 1 skipped)')
  })

  it('summarises attack, detected, missed, blocked, false-positive and benign counts', () => {
    const { header, rows } = tableAfter(md, '## Summary')
    expect(header).toEqual([
      'Steps',
      'Attack steps',
      'Detected',
      'Missed',
      'Blocked (prevented)',
      'Benign steps',
      'False positives',
      'Noisy',
      'Skipped',
      'Not recorded',
      'Not run',
    ])
    expect(rows).toEqual([['13', '10', '3', '3', '1', '3', '1', '1', '1', '1', '1']])
  })

  it('has a technique × data-source matrix with the best verdict per cell', () => {
    const { header, rows } = tableAfter(md, '## Coverage')
    expect(header).toEqual(['Technique', ...SOURCES.map((s) => `\`${s}\``), 'Attack steps'])
    const row = (t: string) => rows.find((r) => r[0] === `\`${t}\``)
    const t1552 = row('T1552.007')
    const col = (s: (typeof SOURCES)[number]) => 1 + SOURCES.indexOf(s)
    expect(t1552?.[col('k8s-audit')]).toBe('✅ DETECTED · 🔔 1 FP') // DETECTED beats DETECTED_LATE, BLOCKED …
    expect(t1552?.[col('docker-events')]).toBe('—') // nothing recorded
    expect(t1552?.[col('docker-api')]).toBe('✅ DETECTED')
    expect(row('T1609')?.[col('k8s-audit')]).toBe('🟠 LOGGED_NOT_ALERTED')
    expect(row('T1552.005')?.slice(1, 1 + SOURCES.length)).toEqual(SOURCES.map(() => '—'))
    expect(row('T1552.005')?.[1 + SOURCES.length]).toBe('ACTION\\_FAILED×1, NOT\\_RUN×1, SKIPPED×1')
  })

  it('lists every step with escaped pipes, so each row has as many cells as the header', () => {
    const { header, rows } = tableAfter(md, '## Steps')
    expect(header).toEqual([
      '#',
      'Step',
      'Kind',
      'Actor',
      'Command',
      'Verdict',
      'Rules fired',
      'Latency',
      'Correlation',
    ])
    expect(rows).toHaveLength(13)
    for (const r of rows) expect(r).toHaveLength(header.length)
    const describeRow = rows[1]!
    expect(describeRow[4]).toBe('`kubectl describe secret canary-db -n t1552 \\| grep -v "x\\|y"`')
    expect(describeRow[5]).toBe('🕒 DETECTED_LATE')
    expect(describeRow[7]).toBe('1 min 5 s ⏱ > 30.0 s')
    expect(rows[0]![7]).toBe('1.2 s')
    expect(rows[0]![6]).toBe('`k8s-secrets-enumeration`')
    expect(rows[3]![5]).toBe('🟠 LOGGED_NOT_ALERTED (gap)')
    expect(rows.map((r) => r[5]?.split(' ')[1])).toEqual(expect.arrayContaining([...VERDICTS]))
  })

  it('lists the gaps first, explained, and no step that met its expectation', () => {
    const order = [
      '## Summary',
      '## Gaps',
      '## Steps',
      '## Coverage',
      '## Passed, with notes',
      '## Findings',
      '## Evidence',
    ]
    const at = order.map((h) => md.indexOf(`\n${h}\n`))
    expect(at.every((i) => i > 0)).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)
    const gapsText = section(md, '## Gaps')
    for (const step of runResult().steps) {
      const heading = `\`${step.scenario}/${step.step}\`:`
      if (step.passed) {
        expect(gapsText, step.step).not.toContain(heading)
        continue
      }
      expect(gapsText).toContain(heading)
      expect(gapsText).toContain(mdText(step.explanation ?? ''))
    }
    expect(gapsText).toContain(
      '`LOGGED_NOT_ALERTED`, **a gap**: telemetry recorded the action but no rule fired',
    )
    expect(gapsText).toContain(
      '**Near miss:** `k8s-exec-token-read` passed 75% of its field tests; field `objectRef.subresource` ' +
        'expected `exec`, actual `attach`',
    )
    expect(gapsText).toContain('- **Evidence:** `k8s-audit` `create pods/app/exec 101`')
    expect(gapsText).toContain('- **Action exit code:** 7')
    expect(md).not.toContain('**Exit code:**')
    // The action's output is collapsed.
    expect(gapsText).toContain('<details>\n<summary>action output (tail)</summary>')
  })

  it('notes blocked-as-expected, noisy and skipped steps apart from the gaps', () => {
    const notes = section(md, '## Passed, with notes')
    expect(notes).toContain('`BLOCKED`, as expected')
    expect(notes).toContain('`k8s-secrets/benign-noisy`')
    expect(notes).toContain('`SKIPPED`, as expected')
    expect(notes).toContain('the local lab lacks networkPolicy')
    expect(section(md, '## Gaps')).not.toContain('BLOCKED')
  })

  it('lists findings with pipes escaped', () => {
    expect(section(md, '## Findings')).toContain(
      '- **known-gap** `k8s-secrets/exec-token`: Rule k8s-exec-token-read can never match: audit policy logs pods/exec at Metadata \\| not Request.',
    )
  })

  it('puts evidence excerpts per step in collapsible blocks', () => {
    const evidence = section(md, '## Evidence')
    // One block per step that ran (not the skipped or unrecorded ones).
    expect(evidence.match(/<details>/g)).toHaveLength(10)
    expect(evidence.match(/<\/details>/g)).toHaveLength(10)
    expect(evidence).toContain(
      '<summary><code>k8s-secrets/list-all</code> ✅ DETECTED: 1 event, 1 alert</summary>\n\n',
    )
    expect(evidence).toContain(
      '| 2026-01-01T12:00:01.000Z | `k8s-audit` | `a-1` | `list /api/v1/secrets 200` |',
    )
  })

  it('lists canary fingerprints and the environment manifest', () => {
    expect(tableAfter(md, '## Canaries retrieved').rows).toEqual([
      ['`k8s-secrets/list-all`', '`3f9a1c2b7e4d`'],
    ])
    const env = tableAfter(md, '## Environment').rows
    expect(env).toContainEqual(['kubernetes', '`v1.36.3`'])
    expect(env).toContainEqual(['audit-policy-sha256', '`e3b0c44298fc`'])
    const dup = runResult()
    dup.manifest.provider = 'local-process'
    const keys = tableAfter(renderMarkdown(dup), '## Environment').rows.map((r) => r[0])
    expect(keys.filter((k) => k === 'provider')).toHaveLength(1)
    expect(tableAfter(md, '### Telemetry collected').rows).toContainEqual(['`docker-events`', '0'])
  })
})

describe('Markdown escaping helpers', () => {
  it('code() picks a fence longer than any backtick run and pads edge backticks', () => {
    expect(code('echo `id` now')).toBe('``echo `id` now``')
    expect(code('`x`')).toBe('`` `x` ``')
    expect(code('a|b', true)).toBe('`a\\|b`')
    expect(code('')).toBe('—')
  })

  it('fence() outgrows backtick runs in the content', () => {
    expect(fence('```\ncode\n```')).toBe('````\n```\ncode\n```\n````')
  })

  it('mdText() shows markup literally and keeps a row on one line', () => {
    expect(mdText('<b>*x*</b> | [l](u)\nnext')).toBe('&lt;b&gt;\\*x\\*&lt;/b&gt; \\| \\[l\\](u)<br>next')
  })
})
