import { describe, expect, it } from 'vitest'
import { PurpleError } from '../../../src/errors.js'
import {
  type ActionContext,
  baseEnv,
  expandArgs,
  jwtSubject,
  kubectlArgs,
  runAction,
} from '../../../src/run/actions.js'
import type { Step } from '../../../src/scenario/schema.js'

describe('actions', () => {
  it('real CLIs start from PATH, HOME and LANG only (nothing inherited such as AWS_* or DOCKER_CONTEXT)', () => {
    process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = 'true'
    try {
      expect(Object.keys(baseEnv()).sort()).toEqual(['HOME', 'LANG', 'PATH'])
    } finally {
      delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
    }
  })

  it('expands the run id placeholder in argv', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder as written in scenario YAML
    expect(expandArgs(['--label', 'purplekind.io/run=${runId}'], 'r1')).toEqual([
      '--label',
      'purplekind.io/run=r1',
    ])
  })

  it('reads the subject of a service-account JWT, and nothing from garbage', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:a:b' })).toString('base64url')
    expect(jwtSubject(`eyJhbGciOiJSUzI1NiJ9.${payload}.sig`)).toBe('system:serviceaccount:a:b')
    expect(jwtSubject('not-a-jwt')).toBeUndefined()
  })

  it('puts the harness connection flags after the step flags (last wins) but before `--`', () => {
    const harness = ['--kubeconfig=/lab/kubeconfig', '--context=purplekind-ci', '--as=alice']
    expect(kubectlArgs(['get', 'pods', '-n', 'app'], harness)).toEqual([
      'get',
      'pods',
      '-n',
      'app',
      ...harness,
    ])
    expect(kubectlArgs(['exec', 'p', '--', 'sh', '-c', 'id'], harness)).toEqual([
      'exec',
      'p',
      ...harness,
      '--',
      'sh',
      '-c',
      'id',
    ])
  })

  it('refuses to run a step that carries its own cluster flag, even one built without the loader', async () => {
    const step = {
      id: 'prod',
      title: 'prod',
      kind: 'attack',
      actor: { user: 'mallory', groups: [] },
      run: ['kubectl', 'get', 'secrets', '--context', 'prod-eu'],
      expect: { outcome: 'executed', alerts: [], within: '10s', knownGaps: [] },
    } as Step
    // Nothing in the context may be touched before the refusal: it is a trap for any use.
    const ctx = new Proxy({ runId: 'r1' } as ActionContext, {
      get: (t, k) => {
        if (k === 'runId') return t.runId
        throw new Error(`context used: ${String(k)}`)
      },
    })
    const err = await runAction(step, ctx).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PurpleError)
    expect((err as PurpleError).code).toBe('PURPLE_SCENARIO_UNSAFE_FLAG')
    expect((err as PurpleError).message).toContain('run[3] "--context"')
  })
})
