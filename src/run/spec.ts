// A run specification: everything a run needs to know, decided before it starts. The CLI builds one from
// flags (and checks them); session.ts runs it. Nothing here reads the environment or touches a lab.
import { randomBytes } from 'node:crypto'
import type { EnvChoice } from '../lab/detect.js'
import type { ExistingProviderOptions } from '../lab/existing/index.js'
import type { SelectionFlags } from './select.js'

export interface RunSpec {
  /** Scenario files or directories, and which of their steps run (`--only`, `--technique`, `--tag`, `--shard`). */
  scenarios: { paths: string[]; select: SelectionFlags }
  /** Rule files or directories (default `detections`) and SPL macro files. */
  rules: { paths: string[]; macros: string[] }
  /** `--pipeline <name>[=<arg>]` specs in order; empty: the built-in engines. */
  pipelines: string[]
  reports: ReportSpec
  /** Where the steps run: a lab, or a recording re-asserted with no lab. */
  source: LabSpec | ReplaySpec
}

/** Where reports go and how the run is judged. */
export interface ReportSpec {
  dir: string
  /** A run to compare with: a regression makes the exit code 1. */
  baseline?: string
  /** A NOISY benign step fails the run. */
  strictBenign: boolean
  /** Lost telemetry or a failing detection pipeline fails the run (exit 2). */
  strict: boolean
}

export interface ReplaySpec {
  kind: 'replay'
  /** A directory written by `purplekind run --record`. */
  recording: string
}

export interface LabSpec {
  kind: 'lab'
  /** `auto` or a lab provider's name. */
  env: EnvChoice
  /** The lab's name (`--lab`). */
  name: string
  /** Contexts the safety guard accepts although they are not purplekind labs. */
  allowContexts: string[]
  /** `--env existing`: the cluster, its audit log and policy. */
  existing?: ExistingProviderOptions
  /** Save the run's redacted telemetry and traces here, for replay. */
  record?: string
  /** Keep the lab objects the run created. */
  keep: boolean
  /** How many times every selected step runs. */
  repeat: number
  /** Kill a step's action after this long (a step may set its own). */
  stepTimeoutMs?: number
  /** `--alerts-listen`: the http intake on this loopback port for the whole run. */
  intake?: { port: number; tokenFile?: string }
  /** false (`--no-builtin`): only external alerts count for verdicts. */
  builtinCounts: boolean
}

/** A run id: UTC time to the second plus 6 random hex digits (sortable, unique enough on one host). */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`
}
