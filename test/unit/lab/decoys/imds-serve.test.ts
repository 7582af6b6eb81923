import { describe, expect, it } from 'vitest'
import { startImds } from '../../../../src/lab/decoys/imds.js'

const PATH = '/latest/meta-data/iam/security-credentials/'

describe('IMDS decoy serving a new run', () => {
  it('serves the role and credentials it was last given', async () => {
    const imds = await startImds({
      host: '127.0.0.1',
      port: 0,
      role: 'lab-role',
      canary: { accessKeyId: 'ASIAAAAAAAAAAAAAAAAA', secretAccessKey: 'first-secret', token: 'first-token' },
    })
    try {
      expect(await (await fetch(`${imds.url}${PATH}`)).text()).toBe('lab-role')
      imds.serve(
        { accessKeyId: 'AKIABBBBBBBBBBBBBBBB', secretAccessKey: 'run-secret', token: 'run-token' },
        'run-role',
      )
      expect(imds.role).toBe('run-role')
      expect(await (await fetch(`${imds.url}${PATH}`)).text()).toBe('run-role')
      const creds = (await (await fetch(`${imds.url}${PATH}run-role`)).json()) as Record<string, string>
      expect(creds).toMatchObject({
        AccessKeyId: 'AKIABBBBBBBBBBBBBBBB',
        SecretAccessKey: 'run-secret',
        Token: 'run-token',
      })
      expect((await fetch(`${imds.url}${PATH}lab-role`)).status).toBe(404)
    } finally {
      await imds.stop()
    }
  })
})
