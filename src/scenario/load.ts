import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { isMap, isSeq, type LineCounter, type parseDocument } from 'yaml'
import type { z } from 'zod'
import { type ErrorCode, type Issue, PurpleError, ValidationError } from '../errors.js'
import { clip, MAX_ISSUES, MAX_SCENARIO_BYTES, parseYamlSafely } from './safe-yaml.js'
import { type ScenarioDoc, scenarioSchema } from './schema.js'
import { unsafeStepArgs } from './step-flags.js'

export interface Scenario extends ScenarioDoc {
  /** The file the scenario was read from, as given. */
  readonly file: string
}

const SCENARIO_EXT = /\.ya?ml$/

// Expand files and directories (recursively) into scenario files, sorted for a stable order.
export async function findScenarioFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined)
    if (!st) throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${p}: no such file or directory`)
    if (st.isDirectory()) {
      const entries = await readdir(p, { recursive: true, withFileTypes: true })
      const files = entries
        .filter((e) => e.isFile() && SCENARIO_EXT.test(e.name))
        .map((e) => path.join(e.parentPath, e.name))
      out.push(...files.sort())
    } else out.push(p)
  }
  return out
}

// Load and validate every scenario, reporting all problems of all files at once.
export async function loadScenarios(paths: readonly string[]): Promise<Scenario[]> {
  const files = await findScenarioFiles(paths)
  const scenarios: Scenario[] = []
  const issues: Issue[] = []
  for (const file of files) {
    // Refused before reading: a huge file must not cost memory or parse time.
    const size = (await stat(file)).size
    const result =
      size > MAX_SCENARIO_BYTES
        ? {
            issues: [
              issue(
                file,
                '(document)',
                `file is ${size} bytes; a scenario may be at most ${MAX_SCENARIO_BYTES}`,
                'PURPLE_SCENARIO_TOO_LARGE',
              ),
            ],
          }
        : parseScenario(await readFile(file, 'utf8'), file)
    if ('issues' in result) issues.push(...result.issues)
    else scenarios.push(result.scenario)
  }
  const seen = new Map<string, string>()
  for (const s of scenarios) {
    const other = seen.get(s.metadata.id)
    if (other)
      issues.push(
        issue(
          s.file,
          'metadata.id',
          `duplicate scenario id "${s.metadata.id}" (also in ${other})`,
          'PURPLE_SCENARIO_BAD_REFERENCE',
        ),
      )
    seen.set(s.metadata.id, s.file)
  }
  if (issues.length) throw new ValidationError(issues)
  return scenarios
}

// Parse one scenario document; never throws for bad content, returns every issue instead.
export function parseScenario(text: string, file: string): { scenario: Scenario } | { issues: Issue[] } {
  const yaml = parseYamlSafely(text, file)
  if ('issues' in yaml) return yaml
  const { data, doc, lines } = yaml
  const parsed = scenarioSchema.safeParse(data)
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, MAX_ISSUES)
      .flatMap((i) => zodIssues(file, i, data, doc, lines))
    return { issues: issues.slice(0, MAX_ISSUES) }
  }
  const scenario = { ...parsed.data, file }
  const refIssues = checkReferences(scenario)
  return refIssues.length ? { issues: refIssues.slice(0, MAX_ISSUES) } : { scenario }
}

function zodIssues(
  file: string,
  i: z.core.$ZodIssue,
  data: unknown,
  doc: ReturnType<typeof parseDocument>,
  lines: LineCounter,
): Issue[] {
  const base = i.path.map(String)
  if (i.code === 'unrecognized_keys') {
    return i.keys
      .slice(0, MAX_ISSUES)
      .map((k) =>
        issue(
          file,
          dotted([...base, k]),
          `unknown field "${k}"${at(doc, lines, [...base, k])}`,
          'PURPLE_SCENARIO_UNKNOWN_FIELD',
        ),
      )
  }
  const missing = i.code === 'invalid_type' && valueAt(data, i.path) === undefined
  const message = missing ? 'is required' : i.message
  return [
    issue(
      file,
      dotted(base),
      `${message}${at(doc, lines, base)}`,
      missing ? 'PURPLE_SCENARIO_MISSING_FIELD' : 'PURPLE_SCENARIO_INVALID',
    ),
  ]
}

// " (line N)" for a YAML path when the node exists, to help editors without the JSON schema.
function at(doc: ReturnType<typeof parseDocument>, lines: LineCounter, p: readonly string[]): string {
  let node: unknown = doc.contents
  let last: unknown
  for (const key of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === key)
      last = pair?.key
      node = pair?.value
    } else if (isSeq(node)) node = last = node.items[Number(key)]
    else break
  }
  const range = (last as { range?: [number] } | undefined)?.range
  return range ? ` (line ${lines.linePos(range[0]).line})` : ''
}

function valueAt(data: unknown, p: readonly PropertyKey[]): unknown {
  let v = data
  for (const k of p)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined
  return v
}

function dotted(p: readonly string[]): string {
  return (
    p.reduce((acc, k) => (/^\d+$/.test(k) ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '') || '(document)'
  )
}

function issue(file: string, p: string, message: string, code: ErrorCode): Issue {
  // Keys, ids and values come from the file: a message never carries megabytes of them.
  return { file, path: clip(p, 200), message: clip(message), code }
}

// Cross-field checks: unique step ids, captures defined before use, known service accounts.
function checkReferences(s: Scenario): Issue[] {
  const out: Issue[] = []
  const stepIds = new Set<string>()
  const captures = new Set<string>()
  const accounts = new Set(s.setup.serviceAccounts.map((sa) => `${sa.namespace}/${sa.name}`))
  const namespaces = new Set(s.setup.namespaces)
  s.steps.forEach((step, n) => {
    const p = `steps[${n}]`
    if (stepIds.has(step.id))
      out.push(issue(s.file, `${p}.id`, `duplicate step id "${step.id}"`, 'PURPLE_SCENARIO_BAD_REFERENCE'))
    stepIds.add(step.id)
    const a = step.actor
    if ('token' in a && !captures.has(a.token))
      out.push(
        issue(
          s.file,
          `${p}.actor.token`,
          `no earlier step captures "${a.token}"`,
          'PURPLE_SCENARIO_BAD_REFERENCE',
        ),
      )
    if ('cloud' in a && a.credentials && !captures.has(a.credentials))
      out.push(
        issue(
          s.file,
          `${p}.actor.credentials`,
          `no earlier step captures "${a.credentials}"`,
          'PURPLE_SCENARIO_BAD_REFERENCE',
        ),
      )
    if ('serviceAccount' in a && !accounts.has(a.serviceAccount) && !a.serviceAccount.endsWith('/default'))
      out.push(
        issue(
          s.file,
          `${p}.actor.serviceAccount`,
          `"${a.serviceAccount}" is not in setup.serviceAccounts`,
          'PURPLE_SCENARIO_BAD_REFERENCE',
        ),
      )
    if ('docker' in a && step.run[0] !== 'docker')
      out.push(issue(s.file, `${p}.run[0]`, 'a docker actor runs the docker CLI', 'PURPLE_SCENARIO_INVALID'))
    if ('cloud' in a && step.run[0] !== (a.cloud === 'aws' ? 'aws' : 'az'))
      out.push(
        issue(
          s.file,
          `${p}.run[0]`,
          `a ${a.cloud} actor runs the ${a.cloud === 'aws' ? 'aws' : 'az'} CLI`,
          'PURPLE_SCENARIO_INVALID',
        ),
      )
    if (
      ('user' in a || 'serviceAccount' in a || 'token' in a) &&
      step.run[0] !== 'kubectl' &&
      step.run[0] !== 'api'
    )
      out.push(
        issue(s.file, `${p}.run[0]`, 'a Kubernetes identity runs kubectl or api', 'PURPLE_SCENARIO_INVALID'),
      )
    for (const u of unsafeStepArgs(step.run))
      out.push(
        issue(
          s.file,
          `${p}.run[${u.index}]`,
          `"${u.flag}" ${u.reason}: the harness sets that, a step may not`,
          'PURPLE_SCENARIO_UNSAFE_FLAG',
        ),
      )
    if (step.capture) captures.add(step.capture)
    if (step.kind === 'benign' && step.expect.alerts.length)
      out.push(
        issue(
          s.file,
          `${p}.expect.alerts`,
          'a benign step expects silence: use expect.silent',
          'PURPLE_SCENARIO_INVALID',
        ),
      )
    if (step.kind === 'attack' && step.expect.silent)
      out.push(
        issue(
          s.file,
          `${p}.expect.silent`,
          'an attack step expects alerts: use expect.alerts',
          'PURPLE_SCENARIO_INVALID',
        ),
      )
  })
  for (const [kind, list] of [
    ['serviceAccounts', s.setup.serviceAccounts],
    ['secrets', s.setup.secrets],
    ['pods', s.setup.pods],
  ] as const) {
    list.forEach((o, n) => {
      if (!namespaces.has(o.namespace))
        out.push(
          issue(
            s.file,
            `setup.${kind}[${n}].namespace`,
            `namespace "${o.namespace}" is not in setup.namespaces`,
            'PURPLE_SCENARIO_BAD_REFERENCE',
          ),
        )
    })
  }
  return out
}
