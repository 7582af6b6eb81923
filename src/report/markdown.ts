// report.md: what a detection engineer reads first. Summary, then the gaps (steps that missed their
// expectation, explained), one row per step, technique × data-source coverage, notes on steps that passed
// but deserve a look (blocked as expected, noisy, skipped), findings, and the evidence, collapsed.
import { attemptsText } from '../run/repeat.js'
import { type RunResult, type StepResult, wasJudged } from '../run/result.js'
import { SOURCES } from '../telemetry/event.js'
import {
  bestVerdict,
  formatLatency,
  gaps,
  isClean,
  rateSuffix,
  runDurationMs,
  scopeFacts,
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
    gapsSection(result),
    stepsTable(result),
    coverage(result),
    notesSection(result),
    findingsSection(result),
    evidence(result),
    canaries(result),
    environment(result),
  ]
  return `${sections.join('\n\n')}\n`
}

function header(result: RunResult): string {
  const facts = [
    `**Lab:** ${code(result.lab)}`,
    `**Provider:** ${code(result.provider)}${podsNote(result)}`,
    `**Started:** ${mdText(result.startedAt)}`,
    `**Duration:** ${formatLatency(runDurationMs(result))}`,
  ]
  const scope = scopeFacts(result).map((f) => `> **Partial run:** ${mdText(f)}`)
  const head = `# purplekind run ${code(result.runId)}\n\n${facts.join(' · ')}`
  return [head, ...(scope.length ? [scope.join('\n>\n')] : []), verdictLine(result)].join('\n\n')
}

/** Where pods are not real containers (the local lab's kwok), every report says so up front. */
function podsNote(result: RunResult): string {
  const pods = result.manifest.pods ?? ''
  return pods.startsWith('simulated') ? ' (**simulated pods**: no kubelet, no runtime, no NetworkPolicy)' : ''
}

/** One line a CI summary can show: all met, or how many gaps and of which kinds; skips are always named. */
export function verdictLine(result: RunResult): string {
  const failed = gaps(result)
  const skipped = result.summary.skipped ? `, ${result.summary.skipped} skipped` : ''
  if (failed.length === 0) return `**✅ all expectations met** (${result.steps.length} steps${skipped})`
  const noun = failed.length === 1 ? 'gap' : 'gaps'
  return `**❌ ${failed.length} ${noun}** in ${result.steps.length} steps${skipped}: ${verdictCounts(failed)}`
}

function summary(result: RunResult): string {
  const s = result.summary
  const headers = [
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
  ]
  const row = [
    s.steps,
    s.attackSteps,
    s.detected,
    s.missed,
    s.blocked,
    s.benignSteps,
    s.falsePositives,
    s.noisy,
    s.skipped,
    s.notRecorded,
    s.notRun,
  ].map(String)
  return `## Summary\n\n${table(headers, [row], 'rrrrrrrrrrr')}`
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
  return `${VERDICT_EMOJI[step.verdict]} ${step.verdict}${gap}${mdText(rateSuffix(step))}`
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

function gapsSection(result: RunResult): string {
  const failed = gaps(result)
  const body = failed.length
    ? failed.map(explainStep).join('\n\n')
    : 'None: every attack step was detected or prevented as expected and every benign step stayed quiet.'
  return `## Gaps\n\n${body}`
}

/** Steps that met their expectation but are not simply clean: blocked as expected, noisy, skipped. */
function notesSection(result: RunResult): string {
  const noted = result.steps.filter((s) => s.passed && !isClean(s.verdict))
  const body = noted.length ? noted.map(explainStep).join('\n\n') : 'Nothing else to note.'
  return `## Passed, with notes\n\n${body}`
}

function findingsSection(result: RunResult): string {
  const findings = result.findings.length
    ? result.findings
        .map((f) => `- **${f.kind}**${f.step ? ` ${code(f.step)}` : ''}: ${mdText(f.message)}`)
        .join('\n')
    : 'No findings about the detection content.'
  return `## Findings\n\n${findings}`
}

function explainStep(step: StepResult): string {
  const lines = [
    `### ${VERDICT_EMOJI[step.verdict]} ${code(stepId(step))}: ${mdText(step.title)}`,
    '',
    `- **Verdict:** ${code(step.verdict)}, ${step.passed ? 'as expected' : '**a gap**'}: ${VERDICT_MEANING[step.verdict]}`,
    `- **Why:** ${step.explanation ? mdText(step.explanation) : 'no explanation was recorded'}`,
    ...(step.attempts
      ? [`- **Attempts:** ${mdText(attemptsText(step) ?? '')}: ${mdText(step.attempts.verdicts.join(', '))}`]
      : []),
    `- **Rules:** expected ${rulesCell(step.expectedRules)}; fired ${rulesCell(step.rules)}`,
  ]
  if (step.nearMiss) {
    const nm = step.nearMiss
    lines.push(
      `- **Near miss:** ${code(nm.rule)} passed ${Math.round(nm.score * 100)}% of its field tests; ` +
        `field ${code(nm.field)} expected ${code(nm.expected)}, actual ${code(showValue(nm.actual))}`,
    )
  }
  // The exit code of the step's own command (kubectl, docker …), not purplekind's.
  if (step.exitCode !== undefined) lines.push(`- **Action exit code:** ${step.exitCode}`)
  const first = step.evidence[0]
  if (wasJudged(step.verdict))
    lines.push(
      first
        ? `- **Evidence:** ${code(first.source)} ${code(first.excerpt)}`
        : '- **Evidence:** no telemetry was tied to this step',
    )
  if (step.output)
    lines.push(
      '',
      `<details>\n<summary>action output (tail)</summary>\n\n${fence(step.output, 'text')}\n\n</details>`,
    )
  return lines.join('\n')
}

/** Near-miss actual values are arbitrary JSON; show them compactly. */
function showValue(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined) return '(absent)'
  return JSON.stringify(value) ?? String(value)
}

function evidence(result: RunResult): string {
  const ran = result.steps.filter((s) => wasJudged(s.verdict))
  const blocks = ran.map((step) => {
    const summaryLine =
      `<code>${htmlText(stepId(step))}</code> ${VERDICT_EMOJI[step.verdict]} ${step.verdict}: ` +
      `${plural(step.evidence.length, 'event')}, ${plural(step.alerts.length, 'alert')}`
    const body = [evidenceTable(step), alertsTable(step)]
    // Steps explained above already show their output there.
    if (step.output && isClean(step.verdict)) body.push(`Output (tail):\n\n${fence(step.output, 'text')}`)
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
  ]
  // The manifest often repeats a fact above (a lab's `provider`): one row per key, first one wins.
  for (const [k, v] of Object.entries(result.manifest))
    if (!facts.some(([key]) => key === k)) facts.push([k, v])
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
