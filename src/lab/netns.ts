// The exec sandbox: a network namespace whose only interface is loopback, with the IMDS address bound
// on it. It has no route anywhere else, and iptables keeps the lab's own bridge ports (to the apiserver
// and kwok) for root only, so commands that kwok runs as an unprivileged user reach nothing but
// 169.254.169.254 and their own loopback.
import { existsSync } from 'node:fs'
import { execa } from 'execa'
import { PurpleError } from '../errors.js'

export const IMDS_IP = '169.254.169.254'

export function netnsName(lab: string): string {
  return `purplekind-${lab}`
}

export function netnsExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`)
}

/** Command prefix that runs a program inside `ns` (ip netns exec execs it, so the pid is the program's). */
export function inNetns(ns: string, command: string, args: readonly string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', ns, command, ...args]]
}

export interface SandboxOptions {
  /** Loopback TCP ports inside the namespace that only root (kwok and the forwarder) may connect to. */
  readonly rootOnlyPorts: readonly number[]
}

/** iptables rules (arguments to `iptables`) applied inside the sandbox namespace. */
export function sandboxFirewall(opts: SandboxOptions): string[][] {
  if (opts.rootOnlyPorts.length === 0) return []
  return [
    [
      '-A',
      'OUTPUT',
      '-o',
      'lo',
      '-p',
      'tcp',
      '-m',
      'multiport',
      '--dports',
      opts.rootOnlyPorts.join(','),
      '-m',
      'owner',
      '!',
      '--uid-owner',
      '0',
      '-j',
      'REJECT',
      '--reject-with',
      'tcp-reset',
    ],
  ]
}

export async function createSandbox(ns: string, opts: SandboxOptions): Promise<void> {
  if (netnsExists(ns)) await deleteSandbox(ns)
  await run('ip', ['netns', 'add', ns])
  const steps: [string, string[]][] = [
    inNetns(ns, 'ip', ['link', 'set', 'lo', 'up']),
    inNetns(ns, 'ip', ['addr', 'add', `${IMDS_IP}/32`, 'dev', 'lo']),
    ...sandboxFirewall(opts).map((rule) => inNetns(ns, 'iptables', rule)),
  ]
  for (const [cmd, args] of steps) await run(cmd, args)
}

/** Removes the namespace after terminating whatever still runs in it (only lab-started processes can). */
export async function deleteSandbox(ns: string): Promise<void> {
  if (!netnsExists(ns)) return
  const pids = await execa('ip', ['netns', 'pids', ns], { reject: false })
  for (const pid of pids.stdout
    .split('\n')
    .map(Number)
    .filter((p) => p > 1)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await run('ip', ['netns', 'delete', ns])
}

async function run(cmd: string, args: string[]): Promise<void> {
  const r = await execa(cmd, args, { reject: false })
  if (r.exitCode !== 0) {
    throw new PurpleError(
      'PURPLE_LAB_FAILED',
      `exec sandbox: \`${cmd} ${args.join(' ')}\` failed: ${r.stderr}`,
      {
        hint: 'the local lab needs root (CAP_NET_ADMIN/CAP_SYS_ADMIN) and iproute2 + iptables',
      },
    )
  }
}
