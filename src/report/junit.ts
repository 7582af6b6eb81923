// junit.xml for CI annotations: one testsuite per scenario, one testcase per step, a <failure> for every
// step that missed its expectation. Written by hand (no XML dependency) with strict escaping.
import type { RunResult, StepResult } from '../run/result.js'
import { formatLatency, gaps, runDurationMs, stepsByScenario, VERDICT_MEANING } from './common.js'

// Characters XML 1.0 forbids (C0 controls other than tab/newline/CR, lone surrogates, U+FFFE/U+FFFF).
const INVALID_XML_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

function stripInvalid(text: string): string {
  return text.replace(INVALID_XML_CHARS, '\uFFFD')
}

/** An attribute value: quotes and markup escaped, newlines kept as character references. */
export function xmlAttr(text: string): string {
  return stripInvalid(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;')
}

/** Character data in CDATA; a `]]>` inside is split across two sections. */
export function cdata(text: string): string {
  return `<![CDATA[${stripInvalid(text).replace(/]]>/g, ']]]]><![CDATA[>')}]]>`
}

type Attrs = Record<string, string | number | undefined>

function attrs(a: Attrs): string {
  return Object.entries(a)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('')
}

function properties(props: Attrs, indent: string): string[] {
  const lines = Object.entries(props)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => `${indent}  <property${attrs({ name, value })}/>`)
  return lines.length ? [`${indent}<properties>`, ...lines, `${indent}</properties>`] : []
}

function seconds(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : (ms / 1000).toFixed(3)
}

function stepFacts(step: StepResult): Attrs {
  return {
    verdict: step.verdict,
    kind: step.kind,
    actor: step.actor,
    rules: step.rules.join(', '),
    expectedRules: step.expectedRules.join(', '),
    latencyMs: step.latencyMs,
    budgetMs: step.budgetMs,
    correlation: step.correlation,
    techniques: step.techniques.join(', '),
  }
}

function systemOut(step: StepResult): string {
  const lines = [
    `verdict: ${step.verdict} (${VERDICT_MEANING[step.verdict]})`,
    `command: ${step.command}`,
    `actor: ${step.actor}`,
    `rules fired: ${step.rules.join(', ') || 'none'}`,
    `latency: ${formatLatency(step.latencyMs)}`,
    `correlation: ${step.correlation}`,
    ...step.evidence.map((e) => `evidence: ${e.time} ${e.source} ${e.excerpt}`),
  ]
  if (step.output) lines.push('output:', step.output)
  return lines.join('\n')
}

function failureBody(step: StepResult): string {
  const lines = [step.explanation ?? VERDICT_MEANING[step.verdict]]
  if (step.nearMiss) {
    const nm = step.nearMiss
    lines.push(
      `near miss: ${nm.rule} (${Math.round(nm.score * 100)}%): field ${nm.field} expected ${nm.expected}, ` +
        `actual ${JSON.stringify(nm.actual) ?? 'absent'}`,
    )
  }
  lines.push(`expected rules: ${step.expectedRules.join(', ') || 'none'}`)
  return lines.join('\n')
}

function testcase(step: StepResult): string[] {
  const open = `    <testcase${attrs({ classname: step.scenario, name: `${step.step} ${step.title}` })}>`
  const body = properties(stepFacts(step), '      ')
  if (!step.passed) {
    const message = step.explanation ? `${step.verdict}: ${step.explanation}` : step.verdict
    body.push(`      <failure${attrs({ message, type: step.verdict })}>${cdata(failureBody(step))}</failure>`)
  }
  body.push(`      <system-out>${cdata(systemOut(step))}</system-out>`)
  return [open, ...body, '    </testcase>']
}

function testsuite(result: RunResult, scenario: string, steps: readonly StepResult[]): string[] {
  const meta = result.scenarios.find((s) => s.id === scenario)
  const failures = steps.filter((s) => !s.passed).length
  const open = `  <testsuite${attrs({
    name: scenario,
    tests: steps.length,
    failures,
    errors: 0,
    skipped: 0,
    timestamp: steps[0]?.startedAt ?? result.startedAt,
  })}>`
  const props = properties(
    { title: meta?.title, tactic: meta?.tactic, techniques: meta?.techniques.join(', '), file: meta?.file },
    '    ',
  )
  return [open, ...props, ...steps.flatMap(testcase), '  </testsuite>']
}

export function renderJunit(result: RunResult): string {
  const suites = [...stepsByScenario(result)].filter(([, steps]) => steps.length > 0)
  const open = `<testsuites${attrs({
    name: `purplekind ${result.runId}`,
    tests: result.steps.length,
    failures: gaps(result).length,
    errors: 0,
    time: seconds(runDurationMs(result)),
    timestamp: result.startedAt,
  })}>`
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    open,
    ...suites.flatMap(([id, steps]) => testsuite(result, id, steps)),
    '</testsuites>',
  ]
  return `${lines.join('\n')}\n`
}
