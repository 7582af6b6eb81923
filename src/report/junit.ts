// junit.xml for CI annotations: one testsuite per scenario, one testcase per step, a <failure> for every
// step that missed its expectation, a <skipped> for every step the lab could not run. Written by hand
// (no XML dependency) with strict escaping; valid against schemas/junit-10.xsd.
import { attemptsText } from '../run/repeat.js'
import type { RunResult, StepResult } from '../run/result.js'
import { describeSelection } from '../run/select.js'
import { formatLatency, gaps, rateSuffix, runDurationMs, stepsByScenario, VERDICT_MEANING } from './common.js'

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
  return ms === undefined ? undefined : (Math.max(0, ms) / 1000).toFixed(3)
}

function systemOut(step: StepResult): string {
  const lines = [
    `verdict: ${step.verdict} (${VERDICT_MEANING[step.verdict]})`,
    ...(step.attempts ? [`attempts: ${attemptsText(step)} (${step.attempts.verdicts.join(', ')})`] : []),
    `kind: ${step.kind}`,
    `command: ${step.command}`,
    `actor: ${step.actor}`,
    `rules fired: ${step.rules.join(', ') || 'none'}`,
    `expected rules: ${step.expectedRules.join(', ') || 'none'}`,
    `latency: ${formatLatency(step.latencyMs)}${step.budgetMs !== undefined ? ` (budget ${formatLatency(step.budgetMs)})` : ''}`,
    `correlation: ${step.correlation}`,
    `techniques: ${step.techniques.join(', ')}`,
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

// The strict JUnit schema (Jenkins xunit junit-10.xsd) allows no <properties> in a testcase: a step's
// facts go to its system-out, the scenario's to its suite's properties.
function testcase(step: StepResult): string[] {
  const open = `    <testcase${attrs({
    classname: step.scenario,
    name: `${step.step} ${step.title}`,
    time: seconds(step.durationMs ?? 0),
  })}>`
  const body: string[] = []
  if (step.verdict === 'SKIPPED') {
    body.push(`      <skipped${attrs({ message: step.explanation ?? VERDICT_MEANING.SKIPPED })}/>`)
  } else if (!step.passed) {
    const message = `${step.explanation ? `${step.verdict}: ${step.explanation}` : step.verdict}${rateSuffix(step)}`
    body.push(`      <failure${attrs({ message, type: step.verdict })}>${cdata(failureBody(step))}</failure>`)
  }
  body.push(`      <system-out>${cdata(systemOut(step))}</system-out>`)
  return [open, ...body, '    </testcase>']
}

function suiteSeconds(steps: readonly StepResult[]): string | undefined {
  return seconds(suiteTotalMs(steps))
}

function testsuite(result: RunResult, scenario: string, steps: readonly StepResult[]): string[] {
  const meta = result.scenarios.find((s) => s.id === scenario)
  const open = `  <testsuite${attrs({
    name: scenario,
    tests: steps.length,
    failures: steps.filter((s) => !s.passed).length,
    errors: 0,
    skipped: steps.filter((s) => s.verdict === 'SKIPPED').length,
    time: suiteSeconds(steps),
    timestamp: steps[0]?.startedAt ?? result.startedAt,
  })}>`
  const props = properties(
    {
      title: meta?.title,
      tactic: meta?.tactic,
      techniques: meta?.techniques.join(', '),
      file: meta?.file,
      ...(result.selection ? { selection: describeSelection(result.selection) } : {}),
      ...(result.repeat && result.repeat > 1 ? { repeat: result.repeat } : {}),
    },
    '    ',
  )
  return [open, ...props, ...steps.flatMap(testcase), '  </testsuite>']
}

export function renderJunit(result: RunResult): string {
  const suites = [...stepsByScenario(result)].filter(([, steps]) => steps.length > 0)
  // <testsuites> carries no timestamp or skipped count in the strict schema; its suites do.
  const open = `<testsuites${attrs({
    name: `purplekind ${result.runId}`,
    tests: result.steps.length,
    failures: gaps(result).length,
    errors: 0,
    time: seconds(runDurationMs(result) ?? suiteTotalMs(result.steps)),
  })}>`
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    open,
    ...suites.flatMap(([id, steps]) => testsuite(result, id, steps)),
    '</testsuites>',
  ]
  return `${lines.join('\n')}\n`
}

function suiteTotalMs(steps: readonly StepResult[]): number {
  return steps.reduce((sum, s) => sum + (s.durationMs ?? 0), 0)
}
