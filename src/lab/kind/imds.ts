// IMDS safety on kind: kind has no fake metadata service, so a pod's request to 169.254.169.254 would
// leave through the node's NAT and could reach the CI runner's REAL cloud metadata service. Inside every
// node container we DNAT that address to the harness's decoy, and reject whatever was not redirected.
import { isIP } from 'node:net'
import { PurpleError } from '../../errors.js'

export const IMDS_ADDRESS = '169.254.169.254'

export interface DecoyAddress {
  /** IPv4 address reachable from the node containers (the lab docker network's gateway). */
  host: string
  port: number
}

/**
 * iptables argument vectors, in order. PREROUTING catches pod traffic (it enters the node's netns through
 * a veth), OUTPUT catches hostNetwork pods and node processes. The filter rules run after DNAT, so they
 * only see metadata traffic that was not redirected (other ports, UDP) and reject it: fail closed.
 */
export function imdsRedirectRules(decoy: DecoyAddress): string[][] {
  if (isIP(decoy.host) !== 4) {
    throw new PurpleError('PURPLE_USAGE', `IMDS decoy host must be an IPv4 address, got '${decoy.host}'`)
  }
  if (!Number.isInteger(decoy.port) || decoy.port < 1 || decoy.port > 65535) {
    throw new PurpleError('PURPLE_USAGE', `IMDS decoy port must be 1-65535, got ${decoy.port}`)
  }
  const to = `${decoy.host}:${decoy.port}`
  const dnat = [
    '-d',
    `${IMDS_ADDRESS}/32`,
    '-p',
    'tcp',
    '--dport',
    '80',
    '-j',
    'DNAT',
    '--to-destination',
    to,
  ]
  const reject = ['-d', `${IMDS_ADDRESS}/32`, '-j', 'REJECT']
  return [
    ['-t', 'nat', 'PREROUTING', ...dnat],
    ['-t', 'nat', 'OUTPUT', ...dnat],
    ['-t', 'filter', 'FORWARD', ...reject],
    ['-t', 'filter', 'OUTPUT', ...reject],
  ]
}

/**
 * A POSIX sh script applying the rules idempotently (`-C` check, else `-I` at the top so kube-proxy's
 * and kindnet's chains cannot pre-empt it). up.sh pipes it into `docker exec -i <node> sh` per node.
 */
export function imdsRedirectScript(decoy: DecoyAddress): string {
  const lines = imdsRedirectRules(decoy).map(([, table, chain, ...spec]) => {
    const rule = spec.join(' ')
    return `iptables -t ${table} -C ${chain} ${rule} 2>/dev/null || iptables -t ${table} -I ${chain} 1 ${rule}`
  })
  return [
    '#!/bin/sh',
    '# purplekind: send pod traffic for the cloud metadata address to the decoy',
    'set -e',
    ...lines,
    '',
  ].join('\n')
}
