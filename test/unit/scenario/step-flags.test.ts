// Issue #8 item 2: a step may not choose its cluster, credentials, Docker engine or cloud endpoint.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../../src/scenario/load.js'
import { unsafeStepArgs } from '../../../src/scenario/step-flags.js'

const flagsOf = (...argv: string[]) => unsafeStepArgs(argv).map((u) => u.flag)

describe('unsafe step flags', () => {
  it.each([
    // kubectl: every connection and identity flag, in each spelling pflag accepts
    [['kubectl', '--kubeconfig=prod.kubeconfig', 'get', 'pods'], ['--kubeconfig']],
    [['kubectl', 'get', 'pods', '--kubeconfig', 'prod.kubeconfig'], ['--kubeconfig']],
    [['kubectl', '--context=prod', 'get', 'secrets'], ['--context']],
    [['kubectl', 'get', 'secrets', '--cluster', 'prod'], ['--cluster']],
    [['kubectl', 'get', 'secrets', '--user=admin'], ['--user']],
    [['kubectl', '--server=https://prod:6443', 'get', 'ns'], ['--server']],
    [['kubectl', '-s', 'https://prod:6443', 'get', 'ns'], ['-s']],
    [['kubectl', '-shttps://prod:6443', 'get', 'ns'], ['-s']],
    [['kubectl', '-s=https://prod:6443', 'get', 'ns'], ['-s']],
    [['kubectl', 'exec', '-its', 'https://prod', 'pod'], ['-s']],
    [['kubectl', 'get', 'ns', '--token', 'eyJ'], ['--token']],
    [['kubectl', 'get', 'ns', '--as=system:admin'], ['--as']],
    [['kubectl', 'get', 'ns', '--as-group', 'system:masters'], ['--as-group']],
    [['kubectl', 'get', 'ns', '--as-uid=0'], ['--as-uid']],
    [['kubectl', 'get', 'ns', '--as-user-extra=a=b'], ['--as-user-extra']],
    [['kubectl', 'get', 'ns', '--certificate-authority=/etc/ca'], ['--certificate-authority']],
    [
      ['kubectl', 'get', 'ns', '--client-certificate', 'c', '--client-key', 'k'],
      ['--client-certificate', '--client-key'],
    ],
    [['kubectl', 'get', 'ns', '--insecure-skip-tls-verify'], ['--insecure-skip-tls-verify']],
    [
      ['kubectl', 'get', 'ns', '--username=a', '--password=b'],
      ['--username', '--password'],
    ],
    [['kubectl', 'get', 'ns', '--profile-output=/etc/passwd'], ['--profile-output']],
    [
      ['kubectl', 'config', 'set-cluster', 'lab', '--server=https://prod'],
      ['--server', 'config set-cluster'],
    ],
    [['kubectl', 'config', 'use-context', 'prod'], ['config use-context']],
    // docker: global host/context/config/TLS options
    [['docker', '-H', 'tcp://10.0.0.1:2375', 'ps'], ['-H']],
    [['docker', '-Htcp://10.0.0.1:2375', 'ps'], ['-H']],
    [['docker', '--host=tcp://x', 'ps'], ['--host']],
    [['docker', '--host', 'tcp://x', 'ps'], ['--host']],
    [['docker', '-c', 'prod', 'ps'], ['-c']],
    [['docker', '-Dc', 'prod', 'ps'], ['-c']],
    [['docker', '--context=prod', 'logs', 'x'], ['--context']],
    [['docker', '--config', '/tmp/x', 'ps'], ['--config']],
    [
      ['docker', '--tlsverify', '--tlscacert=ca', 'ps'],
      ['--tlsverify', '--tlscacert'],
    ],
    [['docker', 'context', 'use', 'prod'], ['context use']],
    // aws: endpoint and credential selection, also as argparse prefixes
    [['aws', '--endpoint-url', 'https://iam.amazonaws.com', 'iam', 'list-users'], ['--endpoint-url']],
    [['aws', 'iam', 'list-users', '--endpoint-url=https://x'], ['--endpoint-url']],
    [['aws', 'iam', 'list-users', '--endpoint', 'https://x'], ['--endpoint']],
    [['aws', 'iam', 'list-users', '--profile', 'prod'], ['--profile']],
    [['aws', 'iam', 'list-users', '--prof=prod'], ['--prof']],
    [
      ['aws', 'sts', 'get-caller-identity', '--no-verify-ssl', '--ca-bundle', 'x'],
      ['--no-verify-ssl', '--ca-bundle'],
    ],
    [['aws', 'configure', 'set', 'aws_access_key_id', 'x'], ['configure set']],
    // az: the cloud (its endpoints) and the CLI configuration
    [['az', 'cloud', 'set', '--name', 'AzureCloud'], ['cloud set']],
    [['az', 'cloud', 'register', '-n', 'x'], ['cloud register']],
    [['az', 'config', 'set', 'core.x=y'], ['config set']],
  ])('refuses %j', (argv, flags) => {
    expect(flagsOf(...argv)).toEqual(flags)
  })

  it.each([
    ['kubectl', 'get', 'secrets', '-A', '-o', 'json'],
    ['kubectl', 'get', 'secrets', '-n', 'prod', '-l', 'app=x'],
    ['kubectl', 'exec', '-it', 'pod', '--', 'kubectl', '--server=https://x', '--token=t'],
    ['kubectl', 'exec', 'pod', '-c', 'app', '--', 'sh', '-c', 'curl -s http://169.254.169.254/'],
    ['kubectl', 'logs', '-f', 'pod', '--since=1m'],
    ['kubectl', 'get', 'pods', '-o', 'jsonpath={.items[*].spec.containers[*].env}', '-w'],
    ['kubectl', 'config', 'view', '--minify'],
    ['kubectl', 'auth', 'can-i', '--list'],
    ['docker', 'logs', 'web'],
    ['docker', 'run', '-c', '512', '-h', 'host', 'image', 'cmd', '-H', 'x'],
    ['docker', 'exec', 'web', 'env'],
    ['docker', 'context', 'ls'],
    ['aws', 'iam', 'list-access-keys', '--region', 'us-east-1', '--output', 'json'],
    ['aws', 'sts', 'get-caller-identity'],
    ['aws', 'configure', 'list'],
    ['az', 'ad', 'sp', 'list', '--all', '--subscription', 'x'],
    ['az', 'cloud', 'show'],
    ['api', 'get', 'secrets', '--kubeconfig', 'x'],
  ])('allows %j', (...argv) => {
    expect(unsafeStepArgs(argv)).toEqual([])
  })

  it('validate names the file, the step field path and the flag, with a stable code', async () => {
    const file = 'test/fixtures/scenarios/unsafe-flags.yaml'
    const r = parseScenario(await readFile(file, 'utf8'), file)
    expect('issues' in r).toBe(true)
    const issues = 'issues' in r ? r.issues : []
    expect(issues.map((i) => `${i.file}:${i.path} ${i.code}`)).toEqual([
      `${file}:steps[0].run[1] PURPLE_SCENARIO_UNSAFE_FLAG`,
      `${file}:steps[0].run[2] PURPLE_SCENARIO_UNSAFE_FLAG`,
      `${file}:steps[1].run[1] PURPLE_SCENARIO_UNSAFE_FLAG`,
      `${file}:steps[2].run[1] PURPLE_SCENARIO_UNSAFE_FLAG`,
    ])
    expect(issues[0]?.message).toContain('"--kubeconfig"')
    expect(issues[2]?.message).toContain('"-H" chooses the Docker engine')
    expect(issues[3]?.message).toContain('"--endpoint-url" chooses the AWS endpoint')
    // The flag's value (a path, a URL, maybe a token) is not echoed.
    expect(issues.map((i) => i.message).join('\n')).not.toMatch(/prod\.kubeconfig|10\.0\.0\.1|amazonaws/)
  })

  it('every shipped scenario passes', async () => {
    const { loadScenarios } = await import('../../../src/scenario/load.js')
    await expect(loadScenarios(['scenarios'])).resolves.not.toHaveLength(0)
  })
})
