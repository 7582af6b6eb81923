import { describe, expect, it } from 'vitest'
import { IMDS_ADDRESS, imdsRedirectRules, imdsRedirectScript } from '../../../../src/lab/kind/imds.js'

const decoy = { host: '172.19.0.1', port: 40123 }

describe('imdsRedirectRules', () => {
  it('DNATs pod (PREROUTING) and node-local (OUTPUT) metadata traffic to the decoy', () => {
    const rules = imdsRedirectRules(decoy)
    const nat = rules.filter((r) => r[1] === 'nat')
    expect(nat.map((r) => r[2])).toEqual(['PREROUTING', 'OUTPUT'])
    for (const rule of nat) {
      expect(rule.slice(3)).toEqual([
        '-d',
        `${IMDS_ADDRESS}/32`,
        '-p',
        'tcp',
        '--dport',
        '80',
        '-j',
        'DNAT',
        '--to-destination',
        '172.19.0.1:40123',
      ])
    }
  })

  it('rejects metadata traffic that was not redirected (fail closed)', () => {
    const filter = imdsRedirectRules(decoy).filter((r) => r[1] === 'filter')
    expect(filter.map((r) => r[2])).toEqual(['FORWARD', 'OUTPUT'])
    for (const rule of filter) expect(rule.slice(3)).toEqual(['-d', `${IMDS_ADDRESS}/32`, '-j', 'REJECT'])
  })

  it('refuses a decoy that is not an IPv4 address with a valid port', () => {
    expect(() => imdsRedirectRules({ host: 'decoy.local', port: 80 })).toThrow(/IPv4/)
    expect(() => imdsRedirectRules({ host: '172.19.0.1', port: 0 })).toThrow(/port/)
  })
})

describe('imdsRedirectScript', () => {
  it('checks each rule before inserting it at the top of its chain', () => {
    const script = imdsRedirectScript(decoy)
    const lines = script.split('\n').filter((l) => l.startsWith('iptables'))
    expect(lines).toHaveLength(4)
    expect(lines[0]).toBe(
      `iptables -t nat -C PREROUTING -d ${IMDS_ADDRESS}/32 -p tcp --dport 80 -j DNAT --to-destination 172.19.0.1:40123 2>/dev/null` +
        ` || iptables -t nat -I PREROUTING 1 -d ${IMDS_ADDRESS}/32 -p tcp --dport 80 -j DNAT --to-destination 172.19.0.1:40123`,
    )
    expect(script).toMatch(/^#!\/bin\/sh\n/)
    expect(script).toContain('\nset -e\n')
  })
})
