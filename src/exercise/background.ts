// Background traffic: what a quiet cluster does all day, so the red side's actions hide among it.
// Controllers list and watch, a deployer creates secrets and pods, developers run kubectl get/logs/exec
// for ordinary reasons. It lives in its own namespace (purple-shop) with its own identities; on `hard`,
// some of it comes close to the attacks (a developer listing secrets, a CI bot's token used by kubectl).
import type { Scenario } from '../scenario/load.js'
import type { Step } from '../scenario/schema.js'
import type { Rng } from './prng.js'

export const BACKGROUND_SCENARIO_ID = 'exercise.background'
const NS = 'purple-shop'
const DEV_GROUP = 'dev-team'
const DEVELOPERS = ['dana@example.com', 'lee@example.com', 'sam@example.com']
const PODS = ['api-0', 'worker-0']

/** What the background identities need: a namespace, two workloads, RBAC, one ordinary secret. */
export const BACKGROUND_SCENARIO: Scenario = {
  file: '(built in)',
  apiVersion: 'purplekind.io/v1alpha1',
  kind: 'Scenario',
  metadata: {
    id: BACKGROUND_SCENARIO_ID,
    title: 'Background traffic of a quiet cluster',
    techniques: ['T1552.007'],
    tactic: 'none',
    description: 'Controllers, a deployer and developers going about their day.',
    references: [],
    tags: [],
  },
  setup: {
    namespaces: [NS],
    serviceAccounts: [
      { namespace: NS, name: 'shop-controller' },
      { namespace: NS, name: 'deployer' },
    ],
    roles: [
      {
        name: 'shop-controller',
        namespace: NS,
        rules: [
          { apiGroups: [''], resources: ['pods', 'configmaps', 'secrets'], verbs: ['get', 'list', 'watch'] },
        ],
        subjects: [{ kind: 'ServiceAccount', name: 'shop-controller', namespace: NS }],
      },
      {
        name: 'deployer',
        namespace: NS,
        rules: [
          { apiGroups: [''], resources: ['secrets', 'pods'], verbs: ['create', 'get', 'list', 'delete'] },
        ],
        subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: NS }],
      },
      {
        name: 'dev-team',
        namespace: NS,
        rules: [
          { apiGroups: [''], resources: ['pods', 'pods/log', 'configmaps'], verbs: ['get', 'list'] },
          { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
          { apiGroups: [''], resources: ['secrets'], verbs: ['list'] },
        ],
        subjects: [{ kind: 'Group', name: DEV_GROUP }],
      },
    ],
    secrets: [{ namespace: NS, name: 'shop-config', canary: 'token' }],
    pods: PODS.map((name) => ({ namespace: NS, name, serviceAccount: 'shop-controller' })),
    containers: [],
    decoys: [],
    networkPolicies: [],
  },
  steps: [],
}

export type Difficulty = 'easy' | 'normal' | 'hard'

interface Template {
  kind: string
  weight: Record<Difficulty, number>
  make(rng: Rng): { title: string; actor: Step['actor']; run: string[] }
}

const hex = (rng: Rng) => rng.int(0, 0xffff).toString(16).padStart(4, '0')
const developer = (rng: Rng): Step['actor'] => ({ user: rng.pick(DEVELOPERS), groups: [DEV_GROUP] })
const controller: Step['actor'] = { serviceAccount: `${NS}/shop-controller` }
const deployer: Step['actor'] = { serviceAccount: `${NS}/deployer` }
const CONTROLLER_UA = 'shop-controller/v2.1.0 (linux/amd64) kubernetes/5f2e1c9'

const TEMPLATES: Template[] = [
  {
    kind: 'controller-list',
    weight: { easy: 4, normal: 4, hard: 4 },
    make: (rng) => {
      const resource = rng.pick(['pods', 'configmaps', 'secrets'])
      return {
        title: `The shop controller resyncs its ${resource}`,
        actor: controller,
        run: ['api', 'list', resource, '-n', NS, '--user-agent', CONTROLLER_UA],
      }
    },
  },
  {
    kind: 'controller-watch',
    weight: { easy: 3, normal: 3, hard: 3 },
    make: (rng) => ({
      title: 'The shop controller watches its pods',
      actor: controller,
      // `watch` is served by the exercise's executor (a one-second watch request), see live.ts.
      run: ['api', 'watch', rng.pick(['pods', 'configmaps']), '-n', NS, '--user-agent', CONTROLLER_UA],
    }),
  },
  {
    kind: 'deployer-secret',
    weight: { easy: 1, normal: 2, hard: 2 },
    make: (rng) => {
      const build = rng.int(100, 999)
      return {
        title: 'The deployer creates a release secret',
        actor: deployer,
        run: [
          'kubectl',
          'create',
          'secret',
          'generic',
          `release-${build}-${hex(rng)}`,
          '-n',
          NS,
          `--from-literal=build=${build}`,
        ],
      }
    },
  },
  {
    kind: 'deployer-pod',
    weight: { easy: 1, normal: 2, hard: 2 },
    make: (rng) => ({
      title: 'The deployer starts a job pod',
      actor: deployer,
      run: [
        'kubectl',
        'run',
        `migrate-${hex(rng)}`,
        '-n',
        NS,
        '--image=purplekind/toolbox:1',
        '--image-pull-policy=Never',
        '--restart=Never',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the run-id placeholder expandArgs fills
        '--labels=app=migrate,purplekind.io/run=${runId}',
        '--',
        'sleep',
        '5',
      ],
    }),
  },
  {
    kind: 'developer-get',
    weight: { easy: 3, normal: 3, hard: 3 },
    make: (rng) => ({
      title: 'A developer checks the pods',
      actor: developer(rng),
      run: ['kubectl', 'get', rng.pick(['pods', 'configmaps']), '-n', NS, ...rng.pick([[], ['-o', 'wide']])],
    }),
  },
  {
    kind: 'developer-logs',
    weight: { easy: 2, normal: 2, hard: 2 },
    make: (rng) => ({
      title: 'A developer reads an application log',
      actor: developer(rng),
      run: ['kubectl', 'logs', '-n', NS, rng.pick(PODS), '--tail=20'],
    }),
  },
  {
    kind: 'developer-exec',
    weight: { easy: 1, normal: 2, hard: 3 },
    make: (rng) => ({
      title: 'A developer runs a harmless command in a pod',
      actor: developer(rng),
      run: [
        'kubectl',
        'exec',
        '-n',
        NS,
        rng.pick(PODS),
        '--',
        ...rng.pick([['date'], ['ls', '/'], ['uname', '-a']]),
      ],
    }),
  },
  {
    // Near look-alike of list-secrets: a human lists secret names in their own namespace.
    kind: 'developer-list-secrets',
    weight: { easy: 0, normal: 0, hard: 2 },
    make: (rng) => ({
      title: 'A developer lists the secrets of the team namespace',
      actor: developer(rng),
      run: ['kubectl', 'get', 'secrets', '-n', NS],
    }),
  },
  {
    // Near look-alike of the stolen-token step: a CI bot's service-account token used by kubectl.
    kind: 'ci-token-kubectl',
    weight: { easy: 0, normal: 0, hard: 2 },
    make: () => ({
      title: 'The CI bot checks the deployment with its own token',
      actor: deployer,
      run: ['kubectl', 'get', 'pods', '-n', NS],
    }),
  },
]

/** One background step, drawn with the difficulty's weights. */
export function backgroundStep(rng: Rng, difficulty: Difficulty, n: number): Step {
  const t = rng.weighted(TEMPLATES.map((value) => ({ value, weight: value.weight[difficulty] })))
  const made = t.make(rng)
  return {
    id: `bg-${String(n).padStart(3, '0')}-${t.kind}`,
    title: made.title,
    kind: 'benign',
    actor: made.actor,
    run: made.run,
    expect: { outcome: 'executed', alerts: [], within: '10s', knownGaps: [] },
  }
}
