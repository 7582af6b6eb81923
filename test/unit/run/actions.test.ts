import { describe, expect, it } from 'vitest'
import { baseEnv, expandArgs, jwtSubject } from '../../../src/run/actions.js'

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
})
