// The exact flags and files the local lab hands its components.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { PurpleError } from '../../../../src/errors.js'
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  KWOK_STAGES,
  kubeconfigYaml,
  kwokArgs,
  kwokConfigYaml,
  labPaths,
  webhookKubeconfigYaml,
} from '../../../../src/lab/local/config.js'
import { criLogLine, freePorts, validateLabName } from '../../../../src/lab/local/index.js'

const ports = { etcdClient: 2001, etcdPeer: 2002, apiserver: 2003, kwok: 2004, receiver: 2005, imds: 2006 }
const p = labPaths('/labs/x')
const flag = (args: string[], name: string) =>
  args
    .find((a) => a.startsWith(`--${name}=`))
    ?.split('=')
    .slice(1)
    .join('=')

describe('component flags', () => {
  it('binds etcd to loopback without fsync', () => {
    const a = etcdArgs(p, ports)
    expect(flag(a, 'listen-client-urls')).toBe('http://127.0.0.1:2001')
    expect(flag(a, 'listen-peer-urls')).toBe('http://127.0.0.1:2002')
    expect(flag(a, 'unsafe-no-fsync')).toBe('true')
    expect(flag(a, 'data-dir')).toBe('/labs/x/etcd')
  })

  it('runs the apiserver on loopback with Node,RBAC, SA keys, the audit log and a 1 s audit webhook', () => {
    const a = apiserverArgs(p, ports)
    expect(flag(a, 'bind-address')).toBe('127.0.0.1')
    expect(flag(a, 'secure-port')).toBe('2003')
    expect(flag(a, 'authorization-mode')).toBe('Node,RBAC')
    expect(flag(a, 'service-account-signing-key-file')).toBe('/labs/x/pki/sa.key')
    expect(flag(a, 'service-account-key-file')).toBe('/labs/x/pki/sa.pub')
    expect(flag(a, 'audit-policy-file')).toBe('/labs/x/audit-policy.yaml')
    expect(flag(a, 'audit-log-path')).toBe('/labs/x/audit/audit.log')
    expect(flag(a, 'audit-log-format')).toBe('json')
    expect(flag(a, 'audit-webhook-config-file')).toBe('/labs/x/audit-webhook.kubeconfig')
    expect(flag(a, 'audit-webhook-batch-max-wait')).toBe('1s')
    expect(flag(a, 'etcd-servers')).toBe('http://127.0.0.1:2001')
  })

  it('limits kube-controller-manager to the controllers the lab needs, with SA credentials', () => {
    const a = controllerManagerArgs(p)
    expect(flag(a, 'controllers')?.split(',')).toEqual([
      'serviceaccount-controller',
      'serviceaccount-token-controller',
      'namespace-controller',
      'garbage-collector-controller',
      'root-ca-certificate-publisher-controller',
    ])
    expect(flag(a, 'use-service-account-credentials')).toBe('true')
    expect(flag(a, 'root-ca-file')).toBe('/labs/x/pki/ca.crt')
    expect(flag(a, 'secure-port')).toBe('0')
  })

  it('points kwok at its config and serves the node on the bridged loopback port', () => {
    const a = kwokArgs(p, ports)
    expect(flag(a, 'server-address')).toBe('127.0.0.1:2004')
    expect(flag(a, 'node-port')).toBe('2004')
    expect(flag(a, 'manage-all-nodes')).toBe('true')
    expect(flag(a, 'config')).toBe('/labs/x/kwok.yaml')
  })
})

describe('kubeconfigs', () => {
  it('names cluster, user and context alike and embeds the credentials', () => {
    const k = parse(
      kubeconfigYaml({
        name: 'purplekind-x',
        server: 'https://127.0.0.1:1',
        caPem: 'CA',
        user: { certPem: 'C', keyPem: 'K' },
      }),
    )
    expect(k['current-context']).toBe('purplekind-x')
    expect(k.contexts[0]).toEqual({
      name: 'purplekind-x',
      context: { cluster: 'purplekind-x', user: 'purplekind-x' },
    })
    expect(Buffer.from(k.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe('CA')
    expect(Buffer.from(k.users[0].user['client-key-data'], 'base64').toString()).toBe('K')
  })

  it('sends the webhook to the receiver path on loopback with a bearer token', () => {
    const k = parse(webhookKubeconfigYaml(2005, 'CA', 'tok'))
    expect(k.clusters[0].cluster.server).toBe('https://127.0.0.1:2005/audit')
    expect(k.users[0].user).toEqual({ token: 'tok' })
  })
})

describe('kwok config', () => {
  let stages: string
  beforeAll(async () => {
    stages = await mkdtemp(join(tmpdir(), 'pk-stages-'))
    for (const s of KWOK_STAGES) {
      await mkdir(join(stages, s, '..'), { recursive: true })
      await writeFile(join(stages, s), `kind: Stage\nmetadata: {name: ${s.split('/').pop()}}\n`)
    }
  })
  afterAll(async () => {
    await rm(stages, { recursive: true, force: true })
  })

  it('concatenates the five stages, a sandboxed ClusterExec and ClusterLogs', async () => {
    const docs = parseAllDocuments(
      kwokConfigYaml(stages, '/tmp/w', { uid: 65534, gid: 65534 }, '/labs/x/pod.log'),
    )
    const objs = docs.map((d) => d.toJS())
    expect(objs.map((o) => o.kind)).toEqual([
      'Stage',
      'Stage',
      'Stage',
      'Stage',
      'Stage',
      'ClusterExec',
      'ClusterLogs',
    ])
    const local = objs[5].spec.execs[0].local
    expect(local.workDir).toBe('/tmp/w')
    expect(local.securityContext).toEqual({ runAsUser: 65534, runAsGroup: 65534 })
    expect(objs[6].spec.logs[0].logsFile).toBe('/labs/x/pod.log')
  })
})

describe('helpers', () => {
  it('accepts short lowercase lab names only (they name a network namespace)', () => {
    for (const ok of ['default', 'ci-1', 'a']) expect(() => validateLabName(ok)).not.toThrow()
    for (const bad of ['', 'Has-Caps', '-x', 'x-', 'a/b', 'x'.repeat(31)]) {
      expect(() => validateLabName(bad)).toThrow(PurpleError)
    }
  })

  it('writes pod log lines in the CRI format kwok parses', () => {
    expect(criLogLine('hello')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F hello\n$/)
  })

  it('hands out distinct free loopback ports', async () => {
    const got = await freePorts(6)
    expect(new Set(got).size).toBe(6)
    for (const port of got) expect(port).toBeGreaterThan(0)
  })

  it('ships an audit policy with the required levels', async () => {
    const policy = parse(
      await readFile(join(import.meta.dirname, '../../../../lab/audit-policy.yaml'), 'utf8'),
    )
    expect(policy.omitStages).toEqual(['RequestReceived'])
    const levelFor = (res: string) =>
      policy.rules.find((r: { resources?: { resources?: string[] }[] }) =>
        r.resources?.some((g) => g.resources?.includes(res)),
      )?.level
    expect(levelFor('secrets')).toBe('Metadata')
    expect(levelFor('pods/exec')).toBe('Request')
    expect(policy.rules.at(-1)).toEqual({ level: 'Metadata' })
  })
})
