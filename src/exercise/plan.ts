// The exercise plan: which attack steps run when, among look-alikes and background traffic. A pure
// function of its inputs and seed, so the same seed on the same scenarios always gives the same plan.
import { PurpleError } from '../errors.js'
import type { LabCapabilities } from '../lab/provider.js'
import type { Scenario } from '../scenario/load.js'
import type { Step } from '../scenario/schema.js'
import { BACKGROUND_SCENARIO_ID, backgroundStep, type Difficulty } from './background.js'
import { createRng } from './prng.js'

export const PLAN_FORMAT = 'purplekind.io/exercise-plan/v1'
export const DIFFICULTIES: readonly Difficulty[] = ['easy', 'normal', 'hard']

export type ActionKind = 'attack' | 'lookalike' | 'background'

export interface PlannedAction {
  /** Unique within the plan, in time order: a01, a02 … for everything. */
  id: string
  /** Offset from the exercise start. */
  atMs: number
  kind: ActionKind
  scenario: string
  /** The step to run, as the runner's actions take it (background steps are generated). */
  step: Step
  techniques: string[]
  /** An earlier action that must have finished first (it captures what this one uses). */
  after?: string
}

export interface ExercisePlan {
  format: typeof PLAN_FORMAT
  seed: number
  durationMs: number
  difficulty: Difficulty
  selection: { only: string[]; techniques: string[] }
  /** Scenarios whose setup the exercise applies (background first). */
  scenarios: string[]
  actions: PlannedAction[]
}

export interface PlanOptions {
  seed: number
  durationMs: number
  difficulty: Difficulty
  scenarios: readonly Scenario[]
  /** Scenario ids (or their last dotted part) to draw attacks from; empty = all. */
  only?: readonly string[]
  /** ATT&CK technique ids (a parent id selects its sub-techniques); empty = all. */
  techniques?: readonly string[]
  /** What the lab can do: steps needing more are never planned. */
  capabilities: LabCapabilities
  /** Number of attack chains; default from duration and difficulty. */
  attacks?: number
}

/** Per difficulty: mean seconds between background actions, seconds of exercise per attack, look-alikes per attack scenario. */
const PACE: Record<Difficulty, { backgroundMeanS: number; secondsPerAttack: number; lookalikes: number }> = {
  easy: { backgroundMeanS: 12, secondsPerAttack: 60, lookalikes: 1 },
  normal: { backgroundMeanS: 6, secondsPerAttack: 40, lookalikes: 2 },
  hard: { backgroundMeanS: 3, secondsPerAttack: 30, lookalikes: 3 },
}
/** Seconds between the steps of a chain (e.g. steal a token, then use it). */
const CHAIN_GAP_MS = 5000
/** Attacks stay out of the first and last part of the exercise (the blue side settles in; telemetry drains). */
const EDGE = 0.1

/** A run of attack steps that must go in order: a step and those whose captures it uses. */
interface Chain {
  scenario: Scenario
  steps: Step[]
}

export function buildPlan(o: PlanOptions): ExercisePlan {
  if (!Number.isFinite(o.durationMs) || o.durationMs < 30_000)
    throw new PurpleError('PURPLE_USAGE', '--duration must be at least 30s')
  const rng = createRng(o.seed)
  const selected = selectScenarios(o)
  const chains = selected.flatMap((s) => attackChains(s, o.capabilities))
  if (!chains.length)
    throw new PurpleError('PURPLE_USAGE', 'the selection has no attack step this lab can run', {
      hint: 'widen --only/--technique, or list what there is with: purplekind list',
    })
  const pace = PACE[o.difficulty]
  const wanted = o.attacks ?? Math.max(1, Math.floor(o.durationMs / 1000 / pace.secondsPerAttack))
  const span = (c: Chain) => (c.steps.length - 1) * CHAIN_GAP_MS
  const usable = o.durationMs * (1 - 2 * EDGE)
  // Chains whose steps fit in one slot; short exercises take fewer chains rather than crowding them.
  const picked = rng.shuffle(chains).slice(0, Math.min(wanted, chains.length))
  const slot = usable / picked.length
  const fitting = picked.filter((c) => span(c) < slot)
  if (!fitting.length)
    throw new PurpleError('PURPLE_USAGE', `--duration is too short for the selected attacks`)
  const slots = rng.shuffle(fitting.map((_, i) => i))
  const start = (i: number, c: Chain) =>
    Math.round(o.durationMs * EDGE + i * slot + rng.next() * (slot - span(c)) * 0.8)
  // Steps of one scenario keep their file order (e.g. create a secret, then delete it).
  const byScenario = new Map<string, number[]>()
  fitting.forEach((c, n) => {
    const list = byScenario.get(c.scenario.metadata.id) ?? []
    list.push(slots[n] as number)
    byScenario.set(c.scenario.metadata.id, list)
  })
  for (const list of byScenario.values()) list.sort((a, b) => a - b)
  const order = (c: Chain) => c.scenario.steps.indexOf(c.steps[0] as Step)
  const sortedChains = [...fitting].sort(
    (a, b) => a.scenario.metadata.id.localeCompare(b.scenario.metadata.id) || order(a) - order(b),
  )

  type Draft = Omit<PlannedAction, 'id' | 'after'> & { after?: Step }
  const drafts: Draft[] = []
  const seen = new Map<string, number>()
  for (const c of sortedChains) {
    const id = c.scenario.metadata.id
    const k = seen.get(id) ?? 0
    seen.set(id, k + 1)
    const at = start(byScenario.get(id)?.[k] as number, c)
    c.steps.forEach((step, i) => {
      drafts.push({
        atMs: at + i * CHAIN_GAP_MS,
        kind: 'attack',
        scenario: id,
        step,
        techniques: c.scenario.metadata.techniques,
        ...(i > 0 ? { after: c.steps[i - 1] as Step } : {}),
      })
    })
  }
  // Benign look-alikes of the scenarios that attack, at random times.
  for (const s of selected.filter((s) => seen.has(s.metadata.id))) {
    const benign = s.steps.filter((st) => st.kind === 'benign' && runnable(s, st, o.capabilities))
    for (let i = 0; i < pace.lookalikes && benign.length; i++) {
      drafts.push({
        atMs: Math.round(o.durationMs * (0.05 + 0.9 * rng.next())),
        kind: 'lookalike',
        scenario: s.metadata.id,
        step: rng.pick(benign),
        techniques: s.metadata.techniques,
      })
    }
  }
  // Background: Poisson arrivals over the whole exercise.
  let t = rng.exponential(pace.backgroundMeanS * 1000) / 2
  for (let n = 1; t < o.durationMs; n++) {
    drafts.push({
      atMs: Math.round(t),
      kind: 'background',
      scenario: BACKGROUND_SCENARIO_ID,
      step: backgroundStep(rng, o.difficulty, n),
      techniques: [],
    })
    t += rng.exponential(pace.backgroundMeanS * 1000)
  }
  drafts.sort((a, b) => a.atMs - b.atMs || kindRank(a.kind) - kindRank(b.kind))
  const ids = new Map<Draft, string>()
  drafts.forEach((d, i) => {
    ids.set(d, `a${String(i + 1).padStart(3, '0')}`)
  })
  const byStep = new Map(drafts.filter((d) => d.kind === 'attack').map((d) => [d.step, d]))
  const actions = drafts.map((d): PlannedAction => {
    const { after, ...rest } = d
    const prev = after ? byStep.get(after) : undefined
    return { id: ids.get(d) as string, ...rest, ...(prev ? { after: ids.get(prev) as string } : {}) }
  })
  return {
    format: PLAN_FORMAT,
    seed: o.seed,
    durationMs: o.durationMs,
    difficulty: o.difficulty,
    selection: { only: [...(o.only ?? [])], techniques: [...(o.techniques ?? [])] },
    scenarios: [
      BACKGROUND_SCENARIO_ID,
      ...selected.filter((s) => seen.has(s.metadata.id)).map((s) => s.metadata.id),
    ],
    actions,
  }
}

const kindRank = (k: ActionKind) => (k === 'attack' ? 0 : k === 'lookalike' ? 1 : 2)

export function selectScenarios(o: Pick<PlanOptions, 'scenarios' | 'only' | 'techniques'>): Scenario[] {
  const only = o.only ?? []
  const techniques = (o.techniques ?? []).map((t) => t.toUpperCase())
  const out = o.scenarios.filter((s) => {
    const id = s.metadata.id
    const named = !only.length || only.some((n) => n === id || id.endsWith(`.${n}`))
    const tech =
      !techniques.length ||
      s.metadata.techniques.some((t) => techniques.some((w) => t === w || t.startsWith(`${w}.`)))
    return named && tech
  })
  if (!out.length)
    throw new PurpleError(
      'PURPLE_USAGE',
      `no scenario matches --only ${only.join(',')} --technique ${techniques.join(',')}`,
    )
  return out
}

function runnable(s: Scenario, step: Step, caps: LabCapabilities): boolean {
  if ((step.requires ?? []).some((c) => !caps[c])) return false
  if (!caps.docker && (step.run[0] === 'docker' || ('docker' in step.actor && step.actor.docker)))
    return false
  if (!caps.docker && s.setup.containers.length) return false
  return true
}

/** Attack steps grouped with the earlier steps whose captures they use (transitively). */
export function attackChains(s: Scenario, caps: LabCapabilities): Chain[] {
  const producer = new Map<string, Step>()
  for (const st of s.steps) if (st.capture) producer.set(st.capture, st)
  const deps = (st: Step): Step[] => {
    const a = st.actor
    const name = 'token' in a ? a.token : 'cloud' in a ? a.credentials : undefined
    const p = name ? producer.get(name) : undefined
    return p ? [...deps(p), p] : []
  }
  const chains: Chain[] = []
  const inChain = new Set<Step>()
  // Longest chains first, so a producer goes with its consumer rather than alone.
  const attacks = s.steps.filter((st) => st.kind === 'attack')
  const withDeps = attacks.map((st) => [...deps(st), st]).sort((a, b) => b.length - a.length)
  for (const steps of withDeps) {
    if (steps.some((st) => inChain.has(st))) continue
    if (!steps.every((st) => runnable(s, st, caps))) continue
    for (const st of steps) inChain.add(st)
    chains.push({ scenario: s, steps })
  }
  return chains
}

/** A seed from the command line: a non-negative integer below 2^53. */
export function parseSeed(text: string): number {
  if (!/^\d{1,15}$/.test(text))
    throw new PurpleError('PURPLE_USAGE', `--seed must be a whole number, got "${text}"`)
  return Number(text)
}

/** Attack actions only, in time order (what the blue side is scored on). */
export function attacks(plan: ExercisePlan): PlannedAction[] {
  return plan.actions.filter((a) => a.kind === 'attack')
}

export type { Difficulty } from './background.js'
