// Process supervision (real child processes), the state file and the sandbox firewall rules.
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PurpleError } from '../../../../src/errors.js'
import { type LabState, readState, writeState } from '../../../../src/lab/local/state.js'
import { inNetns, netnsName, sandboxFirewall } from '../../../../src/lab/netns.js'
import { isAlive, procStartTime, startDaemon, stopDaemon } from '../../../../src/lab/process.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pk-proc-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('daemons', () => {
  it('starts a detached process group and stops the whole group', async () => {
    // a shell whose child outlives a plain kill of the shell: only a group kill removes both
    const rec = startDaemon({
      name: 'sh',
      command: 'sh',
      args: ['-c', 'sleep 60 & echo child $!; wait'],
      logFile: join(dir, 'sh.log'),
    })
    expect(isAlive(rec)).toBe(true)
    await new Promise((r) => setTimeout(r, 200))
    const childPid = Number(/child (\d+)/.exec(readFileSync(rec.logFile, 'utf8'))?.[1])
    expect(procStartTime(childPid)).toBeDefined()
    await stopDaemon(rec, 2000)
    expect(isAlive(rec)).toBe(false)
    expect(procStartTime(childPid)).toBeUndefined()
  })

  it('never signals a recycled pid: a record whose start time differs is not alive', async () => {
    const rec = startDaemon({ name: 'sleep', command: 'sleep', args: ['60'], logFile: join(dir, 's.log') })
    const impostor = { ...rec, startTime: '1' }
    expect(isAlive(impostor)).toBe(false)
    await stopDaemon(impostor, 100)
    expect(isAlive(rec)).toBe(true)
    await stopDaemon(rec, 2000)
    expect(isAlive(rec)).toBe(false)
  })
})

describe('state file', () => {
  const state: LabState = {
    version: 1,
    name: 'x',
    dir: '/labs/x',
    createdAt: '2026-11-27T00:00:00Z',
    netns: 'purplekind-x',
    workDir: '/tmp/w',
    binDir: '/bin',
    versions: { kubernetes: 'v1.36.3' },
    ports: { etcdClient: 1, etcdPeer: 2, apiserver: 3, kwok: 4, receiver: 5, imds: 6 },
    daemons: [{ name: 'etcd', pid: 10, startTime: '5', logFile: '/l' }],
    complete: true,
  }

  it('round-trips and is absent when missing', async () => {
    const file = join(dir, 'state.json')
    await writeState(file, state)
    expect(readState(file)).toEqual(state)
    expect(readState(join(dir, 'none.json'))).toBeUndefined()
  })

  it('names the file and field of a malformed state file', async () => {
    const file = join(dir, 'bad.json')
    await writeFile(file, JSON.stringify({ ...state, ports: { ...state.ports, kwok: 'x' } }))
    expect(() => readState(file)).toThrow(PurpleError)
    expect(() => readState(file)).toThrow(`${file}:ports.kwok`)
    await writeFile(file, '{nope')
    expect(() => readState(file)).toThrow(/not JSON/)
  })
})

describe('sandbox namespace', () => {
  it('reserves the bridge ports for root and runs programs through ip netns exec', () => {
    expect(netnsName('ci')).toBe('purplekind-ci')
    const [rule] = sandboxFirewall({ rootOnlyPorts: [6443, 10250] })
    expect(rule?.join(' ')).toBe(
      '-A OUTPUT -o lo -p tcp -m multiport --dports 6443,10250 -m owner ! --uid-owner 0 -j REJECT --reject-with tcp-reset',
    )
    expect(inNetns('purplekind-ci', 'kwok', ['--a'])).toEqual([
      'ip',
      ['netns', 'exec', 'purplekind-ci', 'kwok', '--a'],
    ])
  })
})
