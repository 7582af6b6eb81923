import { createHash } from 'node:crypto'
import { PurpleError } from '../errors.js'
import type { Scenario } from '../scenario/load.js'
import type { Step } from '../scenario/schema.js'

/** What a run was asked to run: `--only`, `--technique`, `--tag`, `--shard` (all optional). */
export interface SelectionFlags {
  only?: readonly string[]
  technique?: readonly string[]
  tag?: readonly string[]
  shard?: string
}

/** How a report states its selection, so a partial run never reads as a full one. */
export interface Selection {
  /** The flags as given, e.g. `--only t1552.007/list-*`. */
  filters: string[]
  selectedSteps: number
  definedSteps: number
  /** Steps run although not selected: a selected step uses their capture. */
  prerequisites: string[]
}

/**
 * `*` any run of characters, `?` one; everything else literal. Matched with two cursors and one
 * backtrack point (linear-ish, never exponential), unlike a RegExp built from a user's glob.
 */
export function globMatch(glob: string, text: string): boolean {
  let g = 0
  let t = 0
  let star = -1
  let mark = 0
  while (t < text.length) {
    if (g < glob.length && (glob[g] === '?' || glob[g] === text[t])) {
      g++
      t++
    } else if (g < glob.length && glob[g] === '*') {
      star = g++
      mark = t
    } else if (star >= 0) {
      g = star + 1
      t = ++mark
    } else return false
  }
  while (glob[g] === '*') g++
  return g === glob.length
}

/** `i/n` with 1 ≤ i ≤ n. */
export function parseShard(text: string): { index: number; total: number } {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text)
  const index = Number(m?.[1])
  const total = Number(m?.[2])
  if (!m || total < 1 || index < 1 || index > total)
    throw new PurpleError('PURPLE_USAGE', `--shard must be i/n with 1 ≤ i ≤ n, got "${text}"`, {
      hint: 'e.g. --shard 2/4 runs the second of four shards',
    })
  return { index, total }
}

/**
 * Which shard a scenario belongs to: a stable hash of its id, so shards do not reshuffle when a
 * scenario is added elsewhere and every machine in a CI matrix computes the same split.
 */
export function shardOf(scenarioId: string, total: number): number {
  return (createHash('sha256').update(scenarioId).digest().readUInt32BE(0) % total) + 1
}

function stepTechniques(scenario: Scenario, step: Step): string[] {
  return step.techniques ?? scenario.metadata.techniques
}

// `--technique T1552` selects its sub-techniques too (T1552.007).
function techniqueMatches(ids: readonly string[], wanted: readonly string[]): boolean {
  return ids.some((id) => wanted.some((w) => id === w || id.startsWith(`${w}.`)))
}

function onlyMatches(only: readonly string[], scenario: string, step: string): boolean {
  return only.some((pattern) => {
    const slash = pattern.indexOf('/')
    if (slash < 0) return globMatch(pattern, scenario)
    return globMatch(pattern.slice(0, slash), scenario) && globMatch(pattern.slice(slash + 1), step)
  })
}

/** Steps whose capture a step needs (a `token` actor or a cloud actor's `credentials`). */
function capturesUsed(step: Step): string[] {
  const a = step.actor
  if ('token' in a) return [a.token]
  if ('cloud' in a && a.credentials) return [a.credentials]
  return []
}

/**
 * Filters scenarios to the selected steps. Repeats of one flag widen (OR), different flags narrow (AND).
 * A step needing an earlier step's capture brings that step along (named in `prerequisites`). Scenarios
 * left with no step are dropped. A selection that matches nothing is a usage error, not an empty pass.
 */
export function selectScenarios(
  scenarios: readonly Scenario[],
  f: SelectionFlags,
): { scenarios: Scenario[]; selection?: Selection } {
  const only = f.only ?? []
  const technique = f.technique ?? []
  const tag = f.tag ?? []
  const shard = f.shard ? parseShard(f.shard) : undefined
  const definedSteps = scenarios.reduce((n, s) => n + s.steps.length, 0)
  if (!only.length && !technique.length && !tag.length && !shard) return { scenarios: [...scenarios] }
  const prerequisites: string[] = []
  const out: Scenario[] = []
  for (const s of scenarios) {
    if (shard && shardOf(s.metadata.id, shard.total) !== shard.index) continue
    if (tag.length && !tag.some((t) => (s.metadata.tags ?? []).includes(t))) continue
    const chosen = new Set(
      s.steps.filter(
        (st) =>
          (!only.length || onlyMatches(only, s.metadata.id, st.id)) &&
          (!technique.length || techniqueMatches(stepTechniques(s, st), technique)),
      ),
    )
    if (!chosen.size) continue
    // Walk backwards: a prerequisite added here may itself need an earlier capture.
    for (let i = s.steps.length - 1; i >= 0; i--) {
      const st = s.steps[i] as Step
      if (!chosen.has(st)) continue
      for (const name of capturesUsed(st)) {
        const provider = s.steps.slice(0, i).findLast((p) => p.capture === name)
        if (provider && !chosen.has(provider)) {
          chosen.add(provider)
          prerequisites.push(`${s.metadata.id}/${provider.id}`)
        }
      }
    }
    out.push({ ...s, steps: s.steps.filter((st) => chosen.has(st)) })
  }
  const filters = [
    ...only.map((v) => `--only ${v}`),
    ...technique.map((v) => `--technique ${v}`),
    ...tag.map((v) => `--tag ${v}`),
    ...(f.shard ? [`--shard ${f.shard}`] : []),
  ]
  const selectedSteps = out.reduce((n, s) => n + s.steps.length, 0)
  // An empty shard is normal (more shards than scenarios); an empty filter is a typo.
  if (!selectedSteps && (only.length || technique.length || tag.length))
    throw new PurpleError('PURPLE_USAGE', `the selection ${filters.join(' ')} matches no step`, {
      hint: 'purplekind list shows scenario and step ids, techniques and tags',
    })
  return {
    scenarios: out,
    selection: { filters, selectedSteps, definedSteps, prerequisites: prerequisites.reverse() },
  }
}

/** `--only x (3 of 24 steps; also ran a/b for its capture)` — the report header's line. */
export function describeSelection(s: Selection): string {
  const extra = s.prerequisites.length ? `; also ran ${s.prerequisites.join(', ')} for their captures` : ''
  return `${s.filters.join(' ')} (${s.selectedSteps} of ${s.definedSteps} steps${extra})`
}
