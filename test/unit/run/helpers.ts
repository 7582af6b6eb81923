import type { Step } from '../../../src/scenario/schema.js'
import { scenarioSchema } from '../../../src/scenario/schema.js'
import type { TelemetryEvent } from '../../../src/telemetry/event.js'
import { normalize } from '../../../src/telemetry/normalize.js'

/** A real normalized audit event (through the production normalizer), with overrides. */
export function auditEvent(
  over: Record<string, unknown> = {},
  at = '2026-11-27T10:00:01.000000Z',
): TelemetryEvent {
  const record = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: 'id-1',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/purple-app/secrets?limit=500',
    verb: 'list',
    user: { username: 'purplekind-admin', groups: ['system:masters'] },
    impersonatedUser: { username: 'mallory@example.com', groups: ['developers'] },
    userAgent: 'kubectl/v1.36.3 (linux/amd64) kubernetes/0000000',
    objectRef: { resource: 'secrets', namespace: 'purple-app', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: at,
    stageTimestamp: at,
    ...over,
  }
  const [e] = normalize('k8s-audit', record)
  if (!e) throw new Error('no event')
  return e
}

/** A step as the loader would produce it (defaults applied by the real schema). */
export function step(over: Record<string, unknown> = {}): Step {
  const doc = scenarioSchema.parse({
    apiVersion: 'purplekind.io/v1alpha1',
    kind: 'Scenario',
    metadata: { id: 't', title: 't', techniques: ['T1552.007'], tactic: 'credential-access' },
    steps: [
      {
        id: 's',
        title: 's',
        kind: 'attack',
        actor: { user: 'mallory@example.com' },
        run: ['kubectl', 'get', 'secrets'],
        ...over,
      },
    ],
  })
  return doc.steps[0] as Step
}
