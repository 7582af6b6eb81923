// An ATT&CK Navigator layer (layer format 4.5) scored by what the run proved: per technique, the share of
// the attack steps exercising it that were detected or blocked, placed under each of the technique's own
// tactics (from ATT&CK's STIX data). Load it at https://mitre-attack.github.io/attack-navigator/.
import type { RunResult, StepResult, Verdict } from '../run/result.js'
import { ATTACK_VERSION, TECHNIQUE_TACTICS } from './attack-tactics.generated.js'
import { rateSuffix, scopeFacts, techniqueIds, verdictCounts } from './common.js'

export const NAVIGATOR_VERSIONS = {
  layer: '4.5',
  navigator: '5.1.0',
  attack: ATTACK_VERSION.split('.')[0] ?? ATTACK_VERSION,
} as const

/** Credit per attack verdict: detected or prevented counts fully, detected too late counts half. */
const VERDICT_CREDIT: Partial<Record<Verdict, number>> = { DETECTED: 1, BLOCKED: 1, DETECTED_LATE: 0.5 }

// Red (nothing caught) → yellow → green (everything caught or prevented).
const GRADIENT = ['#ff6666', '#ffe766', '#8ec843'] as const

const TACTIC_IDS: Record<string, string> = {
  TA0043: 'reconnaissance',
  TA0042: 'resource-development',
  TA0001: 'initial-access',
  TA0002: 'execution',
  TA0003: 'persistence',
  TA0004: 'privilege-escalation',
  TA0005: 'defense-evasion',
  TA0006: 'credential-access',
  TA0007: 'discovery',
  TA0008: 'lateral-movement',
  TA0009: 'collection',
  TA0011: 'command-and-control',
  TA0010: 'exfiltration',
  TA0040: 'impact',
}
const TACTIC_NAMES = new Set(Object.values(TACTIC_IDS))

/** Navigator's tactic shortname for `TA0006`, `Credential Access` or `credential-access`; else undefined. */
export function tacticShortname(tactic: string): string | undefined {
  const upper = tactic.trim().toUpperCase()
  if (TACTIC_IDS[upper]) return TACTIC_IDS[upper]
  const name = tactic
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-')
  return TACTIC_NAMES.has(name) ? name : undefined
}

/** 0–100, or undefined when no attack step exercising the technique ran (skipped steps prove nothing). */
export function techniqueScore(attackSteps: readonly StepResult[]): number | undefined {
  attackSteps = attackSteps.filter((s) => s.verdict !== 'SKIPPED')
  if (!attackSteps.length) return undefined
  const credit = attackSteps.reduce((sum, s) => sum + (VERDICT_CREDIT[s.verdict] ?? 0), 0)
  return Math.round((100 * credit) / attackSteps.length)
}

function techniqueComment(steps: readonly StepResult[]): string {
  const all = steps.filter((s) => s.kind === 'attack')
  const attack = all.filter((s) => s.verdict !== 'SKIPPED')
  const benign = steps.filter((s) => s.kind === 'benign')
  const caught = attack.filter((s) => (VERDICT_CREDIT[s.verdict] ?? 0) > 0).length
  const parts = [`${caught}/${attack.length} attack steps detected or blocked`]
  if (all.length > attack.length) parts.push(`${all.length - attack.length} skipped`)
  if (attack.length) parts.push(`attack: ${verdictCounts(attack)}`)
  if (benign.length) parts.push(`benign: ${verdictCounts(benign)}`)
  return parts.join('; ')
}

/**
 * The technique's tactics from ATT&CK (T1609 is execution whatever scenario uses it); for an id the table
 * does not know (newer than ATT&CK v${ATTACK_VERSION}), the tactic of a scenario that names it.
 */
export function tacticsFor(result: RunResult, technique: string): (string | undefined)[] {
  const known = TECHNIQUE_TACTICS[technique]
  if (known?.length) return [...known]
  const scenario = result.scenarios.find((s) => s.techniques.includes(technique))
  return [scenario ? tacticShortname(scenario.tactic) : undefined]
}

function techniqueEntries(result: RunResult, technique: string): Record<string, unknown>[] {
  const steps = result.steps.filter((s) => s.techniques.includes(technique))
  const attack = steps.filter((s) => s.kind === 'attack')
  return tacticsFor(result, technique).map((tactic) => ({
    techniqueID: technique,
    ...(tactic ? { tactic } : {}),
    score: techniqueScore(attack),
    comment: techniqueComment(steps),
    enabled: true,
    metadata: [
      {
        name: 'steps',
        value:
          steps.map((s) => `${s.scenario}/${s.step} (${s.verdict}${rateSuffix(s)})`).join(', ') || 'none',
      },
      { name: 'rules fired', value: [...new Set(steps.flatMap((s) => s.rules))].join(', ') || 'none' },
    ],
    showSubtechniques: true,
  }))
}

export function renderNavigatorLayer(result: RunResult): string {
  const layer = {
    name: `purplekind ${result.runId}`,
    versions: NAVIGATOR_VERSIONS,
    domain: 'enterprise-attack',
    description:
      `Detection coverage proven by purplekind run ${result.runId} on lab ${result.lab}: ` +
      'score = % of attack steps detected or blocked (late detections count half).' +
      scopeFacts(result)
        .map((f) => ` Partial run — ${f}.`)
        .join(''),
    sorting: 3,
    layout: { layout: 'side', showID: true, showName: true, expandedSubtechniques: 'annotated' },
    hideDisabled: false,
    techniques: techniqueIds(result).flatMap((t) => techniqueEntries(result, t)),
    gradient: { colors: [...GRADIENT], minValue: 0, maxValue: 100 },
    legendItems: [
      { label: 'no attack step detected or blocked', color: GRADIENT[0] },
      { label: 'every attack step detected or blocked', color: GRADIENT[2] },
    ],
    metadata: [
      { name: 'run id', value: result.runId },
      { name: 'lab', value: result.lab },
      { name: 'started', value: result.startedAt },
      ...scopeFacts(result).map((f) => ({ name: 'scope', value: f })),
      {
        name: 'ATT&CK tactics',
        value: `Enterprise ATT&CK v${ATTACK_VERSION} (scripts/gen-attack-tactics.mjs)`,
      },
    ],
    showTacticRowBackground: false,
    selectTechniquesAcrossTactics: true,
    selectSubtechniquesWithParent: false,
    selectVisibleTechniques: false,
  }
  return `${JSON.stringify(layer, null, 2)}\n`
}
