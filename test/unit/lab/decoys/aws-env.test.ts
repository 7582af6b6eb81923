import { describe, expect, it } from 'vitest'
import { AWS_UNSET_ENV, awsEnv, awsProcessEnv } from '../../../../src/lab/decoys/aws.js'

const target = {
  endpoint: 'http://127.0.0.1:5000',
  region: 'us-east-1',
  sinkhole: { url: 'http://127.0.0.1:6000' },
}

describe('awsEnv', () => {
  it('points every endpoint at the decoy and everything else at the sinkhole', () => {
    const env = awsEnv(target, { accessKeyId: 'AKIA', secretAccessKey: 's' })
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      HTTPS_PROXY: 'http://127.0.0.1:6000',
      NO_PROXY: '127.0.0.1,localhost,::1',
    })
    expect(env.AWS_SESSION_TOKEN).toBeUndefined()
    expect(
      awsEnv(target, { accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' }).AWS_SESSION_TOKEN,
    ).toBe('t')
  })

  it('awsProcessEnv drops profile and container-credential variables inherited from the parent', () => {
    process.env.AWS_PROFILE = 'prod'
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = 'http://169.254.170.2/creds'
    try {
      const env = awsProcessEnv(target, { accessKeyId: 'a', secretAccessKey: 's' })
      for (const name of AWS_UNSET_ENV) expect(env[name]).toBeUndefined()
    } finally {
      delete process.env.AWS_PROFILE
      delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI
    }
  })
})
