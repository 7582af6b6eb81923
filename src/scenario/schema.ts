import { z } from 'zod'
import { SOURCES } from '../telemetry/event.js'

// The scenario file format, purplekind.io/v1alpha1. Strict: unknown keys are errors.

const dnsName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 name (lower case, digits, - and .)')
  .max(63)

const duration = z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'must be a duration like 500ms, 10s or 2m')

const techniqueId = z.string().regex(/^T\d{4}(\.\d{3})?$/, 'must be an ATT&CK technique id like T1552.007')
const mitigationId = z.string().regex(/^M\d{4}$/, 'must be an ATT&CK mitigation id like M1026')

const policyRule = z.strictObject({
  apiGroups: z.array(z.string()).default(['']),
  resources: z.array(z.string()).min(1),
  verbs: z.array(z.string()).min(1),
  resourceNames: z.array(z.string()).optional(),
})

const subject = z.strictObject({
  kind: z.enum(['User', 'Group', 'ServiceAccount']),
  name: z.string().min(1),
  namespace: dnsName.optional(),
})

/** Kinds of canary a lab secret or container log can carry; values are generated per run. */
export const CANARY_KINDS = ['aws', 'azure', 'db-password', 'token'] as const

const setup = z.strictObject({
  namespaces: z.array(dnsName).default([]),
  serviceAccounts: z.array(z.strictObject({ namespace: dnsName, name: dnsName })).default([]),
  roles: z
    .array(
      z.strictObject({
        name: dnsName,
        /** Omit for a ClusterRole + ClusterRoleBinding. */
        namespace: dnsName.optional(),
        rules: z.array(policyRule).min(1),
        subjects: z.array(subject).min(1),
      }),
    )
    .default([]),
  secrets: z
    .array(z.strictObject({ namespace: dnsName, name: dnsName, canary: z.enum(CANARY_KINDS) }))
    .default([]),
  pods: z
    .array(
      z.strictObject({
        namespace: dnsName,
        name: dnsName,
        serviceAccount: dnsName.optional(),
        /** Secret names (in the pod's namespace) the pod mounts, e.g. an app reading its own secret. */
        mountSecrets: z.array(dnsName).optional(),
      }),
    )
    .default([]),
  containers: z
    .array(
      z.strictObject({
        name: dnsName,
        image: z.enum(['victim', 'toolbox']),
        /** Canaries the container prints to its logs (empty: a container whose logs hold no secrets). */
        leaks: z.array(z.enum(CANARY_KINDS)).default([]),
      }),
    )
    .default([]),
  decoys: z.array(z.enum(['imds', 'aws', 'azure'])).default([]),
  /** Egress NetworkPolicies (M1035/M1030): pods of the namespace may not reach these CIDRs. */
  networkPolicies: z
    .array(z.strictObject({ namespace: dnsName, name: dnsName, denyEgressTo: z.array(z.string()).min(1) }))
    .default([]),
})

const actor = z.union([
  z.strictObject({ user: z.string().min(1), groups: z.array(z.string()).default([]) }),
  z.strictObject({ serviceAccount: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-.]+$/, 'must be namespace/name') }),
  z.strictObject({
    token: z.string().min(1).describe('name of an earlier step capture holding a bearer token'),
  }),
  z.strictObject({ docker: z.literal(true) }),
  z.strictObject({
    cloud: z.enum(['aws', 'azure']),
    credentials: z.string().optional().describe('name of an earlier capture holding stolen credentials'),
  }),
])

const expect = z.strictObject({
  /** executed (default): the action must succeed; blocked: a mitigation must deny it. */
  outcome: z.enum(['executed', 'blocked']).default('executed'),
  /** Rule ids that must fire on this step's telemetry (attack steps). */
  alerts: z.array(z.string()).default([]),
  within: duration.default('10s'),
  /** Rule ids that must stay silent (benign steps); `all` = every loaded rule. */
  silent: z.union([z.literal('all'), z.array(z.string())]).optional(),
  /** Telemetry sources the action must show up in (a NOT_LOGGED check per source). */
  telemetry: z.array(z.enum(SOURCES)).optional(),
  /**
   * Rules that, as written, cannot fire on this step's real telemetry. Not counted as a gap: each is
   * checked (if it fires after all, the report says so) and reported as a finding with its reason.
   */
  knownGaps: z.array(z.strictObject({ rule: z.string(), reason: z.string().min(1) })).default([]),
})

const step = z.strictObject({
  id: dnsName,
  title: z.string().min(1),
  kind: z.enum(['attack', 'benign']),
  actor,
  /** argv; argv[0] is one of the supported tools (the harness adds lab connection flags). */
  run: z
    .array(z.string())
    .min(1)
    .refine((argv) => TOOLS.includes(argv[0] as Tool), {
      message: 'argv[0] must be one of: kubectl, docker, aws, az, api',
    }),
  /** Keep stdout in memory under this name for later steps (never written anywhere). */
  capture: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .optional(),
  mitigations: z.array(mitigationId).optional(),
  /** ATT&CK techniques this step exercises; default: the scenario's (so a `docker create` step is not T1078). */
  techniques: z.array(techniqueId).min(1).optional(),
  /** Lab capability the step needs (skipped with a printed reason when absent). */
  requires: z.array(z.enum(['networkPolicy', 'realPods', 'docker'])).optional(),
  /** How long the action may run before it is killed (ACTION_FAILED); default: the run's --step-timeout. */
  timeout: duration.optional(),
  expect: expect.prefault({}),
})

/** kubectl, docker, aws, az: the real CLIs; api: the harness's own API client (sets Audit-ID). */
export const TOOLS = ['kubectl', 'docker', 'aws', 'az', 'api'] as const
export type Tool = (typeof TOOLS)[number]

export const scenarioSchema = z.strictObject({
  apiVersion: z.literal('purplekind.io/v1alpha1'),
  kind: z.literal('Scenario'),
  metadata: z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'must be lower case letters, digits, . and -'),
    title: z.string().min(1),
    techniques: z.array(techniqueId).min(1),
    tactic: z.string().min(1),
    description: z.string().default(''),
    references: z.array(z.url()).default([]),
    /** Free labels for `--tag` selection (e.g. nightly, slow, cloud). */
    tags: z.array(dnsName).default([]),
  }),
  setup: setup.prefault({}),
  steps: z.array(step).min(1),
})

export type ScenarioDoc = z.infer<typeof scenarioSchema>
export type Step = ScenarioDoc['steps'][number]
export type Actor = Step['actor']
export type Setup = ScenarioDoc['setup']
