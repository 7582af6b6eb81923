import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { IMDS_ADDRESS, IMDS_NETNS, nodeGuardScript } from '../../../../src/lab/kind/imds.js'

const guard = { imds: { host: '172.19.0.1', port: 40123 }, allowPorts: [40200, 40201] }

describe('nodeGuardScript', () => {
  const script = nodeGuardScript(guard)

  it('puts 169.254.169.254 in its own namespace and DNATs it there to the decoy', () => {
    expect(script).toContain(`ip netns add ${IMDS_NETNS}`)
    expect(script).toContain(`ip route replace ${IMDS_ADDRESS}/32 dev pk-imds0`)
    expect(script).toContain(`ip daddr ${IMDS_ADDRESS} tcp dport 80 dnat to 172.19.0.1:40123`)
    // Replies must come back through the namespace (it masquerades what it forwards).
    expect(script).toMatch(/oifname "pk-imds1" masquerade/)
  })

  it('lets pods leave the node only towards the gateway decoy ports, and rejects the rest', () => {
    expect(script).toContain('ip daddr 172.19.0.1 tcp dport { 40123, 40200, 40201 } accept')
    const reject = script.split('\n').filter((l) => l.includes('reject'))
    expect(reject.some((l) => l.includes('ip saddr { 10.244.0.0/16, 169.254.169.254 } oifname "eth0"'))).toBe(
      true,
    )
    // Metadata addresses never leave the node, whatever asks.
    expect(reject.filter((l) => l.includes('ip daddr 169.254.0.0/16'))).toHaveLength(2)
  })

  it('is valid POSIX sh that stops at the first failure', () => {
    expect(script.startsWith('#!/bin/sh\n')).toBe(true)
    expect(script).toContain('\nset -e\n')
    execFileSync('sh', ['-n'], { input: script })
  })

  it('refuses a decoy that is not an IPv4 address with valid ports', () => {
    expect(() => nodeGuardScript({ ...guard, imds: { host: 'decoy.local', port: 80 } })).toThrow(/IPv4/)
    expect(() => nodeGuardScript({ ...guard, imds: { host: '172.19.0.1', port: 0 } })).toThrow(/port/)
    expect(() => nodeGuardScript({ ...guard, allowPorts: [70000] })).toThrow(/port/)
  })
})
