// report.md: what a detection engineer reads first. Summary, technique × data-source coverage, one row per
// step, then an explanation for every step that was not simply detected (or quiet, for benign steps).
import type { RunResult, StepResult } from '../run/result.js'
import { SOURCES } from '../telemetry/event.js'
import {
  bestVerdict,
  formatLatency,
  gaps,
  isClean,
  runDurationMs,
  stepId,
  stepSources,
  techniqueIds,
  VERDICT_EMOJI,
  VERDICT_MEANING,
  verdictCounts,
} from './common.js'
import { code, fence, htmlText, mdText, table } from './markdown-text.js'

export function renderMarkdown(result: RunResult): string {
  const sections = [
    header(result),
    summary(result),
    coverage(result),
    stepsTable(result),
    missesAndFindings(result),
    evidence(result),
    canaries(result),
    environment(result),
  ]
  return `${sections.join('\n\n')}\n`
}

function header(result: RunResult): string {
  const facts = [
    `**Lab:** ${code(result.lab)}`,
    `**Provider:** ${code(result.provider)}`,
    `**Started:** ${mdText(result.startedAt)}`,
    `**Duration:** ${formatLatency(runDurationMs(result))}`,
  ]
  return `# purplekind run ${code(result.runId)}\n\n${facts.join(' · ')}\n\n${verdictLine(result)}`
}

/** One line a CI summary can show: all met, or how many gaps and of which kinds. */
export function verdictLine(result: RunResult): string {
  const failed = gaps(result)
  if (failed.length === 0) return `**✅ all expectations met** (${result.steps.length} steps)`
  const noun = failed.length === 1 ? 'gap' : 'gaps'
  return `**❌ ${failed.length} ${noun}**: ${verdictCounts(failed)}`
}

function summary(result: RunResult): string {
  const s = result.summary
  const headers = [
    'Attack steps',
    'Detected',
    'Missed',
    'Blocked (prevented)',
    'False positives',
    'Benign steps',
  ]
  const row = [s.attackSteps, s.detected, s.missed, s.blocked, s.falsePositives, s.benignSteps].map(String)
  return `## Summary\n\n${table(headers, [row], 'rrrrrr')}`
}

/** Technique × data source, with the best attack verdict seen per cell and false positives flagged. */
function coverage(result: RunResult): string {
  const rows = techniqueIds(result).map((technique) => {
    const steps = result.steps.filter((s) => s.techniques.includes(technique))
    const attack = steps.filter((s) => s.kind === 'attack')
    const cells = SOURCES.map((source) => coverageCell(steps.filter((s) => stepSources(s).has(source))))
    const outcome = attack.length ? mdText(verdictCounts(attack)) : 'no attack steps'
    return [code(technique, true), ...cells, outcome]
  })
  const headers = ['Technique', ...SOURCES.map((s) => code(s, true)), 'Attack steps']
  return `## Coverage\n\nBest verdict per technique and data source (attack steps; 🔔 marks false positives).\n\n${table(headers, rows)}`
}

function coverageCell(steps: readonly StepResult[]): string {
  const best = bestVerdict(steps.filter((s) => s.kind === 'attack').map((s) => s.verdict))
  const fps = steps.filter((s) => s.verdict === 'FALSE_POSITIVE').length
  const parts = best ? [`${VERDICT_EMOJI[best]} ${best}`] : []
  if (fps) parts.push(`🔔 ${fps} FP`)
  return parts.length ? parts.join(' · ') : '—'
}

function verdictCell(step: StepResult): string {
  const gap = step.passed ? '' : ' (gap)'
  return `${VERDICT_EMOJI[step.verdict]} ${step.verdict}${gap}`
}

function latencyCell(step: StepResult): string {
  const latency = formatLatency(step.latencyMs)
  const over = step.latencyMs !== undefined && step.budgetMs !== undefined && step.latencyMs > step.budgetMs
  return over ? `${latency} ⏱ > ${formatLatency(step.budgetMs)}` : latency
}

function rulesCell(rules: readonly string[]): string {
  return rules.length ? rules.map((r) => code(r, true)).join(', ') : '—'
}

function stepsTable(result: RunResult): string {
  const headers = [
    '#',
    'Step',
    'Kind',
    'Actor',
    'Command',
    'Verdict',
    'Rules fired',
    'Latency',
    'Correlation',
  ]
  const rows = result.steps.map((step, i) => [
    String(i + 1),
    `${code(stepId(step), true)}<br>${mdText(step.title)}`,
    step.kind,
    mdText(step.actor),
    code(step.command, true),
    verdictCell(step),
    rulesCell(step.rules),
    latencyCell(step),
    step.correlation,
  ])
  return `## Steps\n\n${table(headers, rows, 'r')}`
}

function missesAndFindings(result: RunResult): string {
  const unclean = result.steps.filter((s) => !isClean(s.verdict))
  const explained = unclean.length
    ? unclean.map(explainStep).join('\n\n')
    : 'Every attack step was detected and every benign step stayed quiet.'
  const findings = result.findings.length
    ? result.findings.map((f) => `- ${mdText(f)}`).join('\n')
    : 'No findings about the detection content.'
  return `## Misses and findings\n\n${explained}\n\n### Findings\n\n${findings}`
}

function explainStep(step: StepResult): string {
  const lines = [
    `### ${VERDICT_EMOJI[step.verdict]} ${code(stepId(step))}: ${mdText(step.title)}`,
    '',
    `- **Verdict:** ${code(step.verdict)}, ${step.passed ? 'as expected' : '**a gap**'}: ${VERDICT_MEANING[step.verdict]}`,
    `- **Why:** ${step.explanation ? mdText(step.explanation) : 'no explanation was recorded'}`,
    `- **Rules:** expected ${rulesCell(step.expectedRules)}; fired ${rulesCell(step.rules)}`,
  ]
  if (step.nearMiss) {
    const nm = step.nearMiss
    lines.push(
      `- **Near miss:** ${code(nm.rule)} passed ${Math.round(nm.score * 100)}% of its field tests; ` +
        `field ${code(nm.field)} expected ${code(nm.expected)}, actual ${code(showValue(nm.actual))}`,
    )
  }
  if (step.exitCode !== undefined) lines.push(`- **Exit code:** ${step.exitCode}`)
  const first = step.evidence[0]
  lines.push(
    first
      ? `- **Evidence:** ${code(first.source)} ${code(first.excerpt)}`
      : '- **Evidence:** no telemetry was tied to this step',
  )
  if (step.output) lines.push('', fence(step.output, 'text'))
  return lines.join('\n')
}

/** Near-miss actual values are arbitrary JSON; show them compactly. */
function showValue(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined) return '(absent)'
  return JSON.stringify(value) ?? String(value)
}

function evidence(result: RunResult): string {
  const blocks = result.steps.map((step) => {
    const summaryLine =
      `<code>${htmlText(stepId(step))}</code> ${VERDICT_EMOJI[step.verdict]} ${step.verdict}: ` +
      `${plural(step.evidence.length, 'event')}, ${plural(step.alerts.length, 'alert')}`
    const body = [evidenceTable(step), alertsTable(step)]
    if (step.output) body.push(`Output (tail):\n\n${fence(step.output, 'text')}`)
    return `<details>\n<summary>${summaryLine}</summary>\n\n${body.join('\n\n')}\n\n</details>`
  })
  return `## Evidence\n\n${blocks.join('\n\n')}`
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function evidenceTable(step: StepResult): string {
  if (!step.evidence.length) return 'No telemetry events were tied to this step.'
  const rows = step.evidence.map((e) => [
    mdText(e.time),
    code(e.source, true),
    e.auditID ? code(e.auditID, true) : '—',
    code(e.excerpt, true),
  ])
  return table(['Time', 'Source', 'Audit ID', 'Excerpt'], rows)
}

function alertsTable(step: StepResult): string {
  if (!step.alerts.length) return 'No alerts.'
  const rows = step.alerts.map((a) => [
    code(a.rule, true),
    mdText(a.title),
    mdText(a.level ?? '—'),
    mdText(a.pipeline),
    // External alerts say how they were tied to the step; built-in ones ride on the step's own events.
    mdText(a.correlation ?? 'event'),
    mdText(a.alertTime),
  ])
  return table(['Rule', 'Title', 'Level', 'Pipeline', 'Linked by', 'Alert time'], rows)
}

function canaries(result: RunResult): string {
  const rows = result.steps
    .filter((s) => s.canariesRetrieved.length)
    .map((s) => [code(stepId(s), true), s.canariesRetrieved.map((f) => code(f, true)).join(', ')])
  const body = rows.length
    ? `Retrieval is proven by sha256 prefix; the values never appear in reports.\n\n${table(['Step', 'Fingerprints'], rows)}`
    : 'No step retrieved a canary value.'
  return `## Canaries retrieved\n\n${body}`
}

function environment(result: RunResult): string {
  const facts: [string, string][] = [
    ['run id', result.runId],
    ['lab', result.lab],
    ['provider', result.provider],
    ['started', result.startedAt],
    ['finished', result.finishedAt],
    ...Object.entries(result.manifest),
  ]
  const parts = [
    '## Environment',
    table(
      ['Key', 'Value'],
      facts.map(([k, v]) => [mdText(k), code(v, true)]),
    ),
    '### Telemetry collected',
    table(
      ['Source', 'Events'],
      SOURCES.map((s) => [code(s, true), String(result.telemetry[s] ?? 0)]),
      'lr',
    ),
  ]
  if (result.rules.length) {
    const rows = result.rules.map((r) => [
      code(r.id, true),
      mdText(r.title),
      mdText(r.language),
      code(r.file, true),
    ])
    parts.push('### Rules loaded', table(['Rule', 'Title', 'Language', 'File'], rows))
  }
  return parts.join('\n\n')
}
