// Flags a scenario step may not carry: those that choose the cluster, the credentials, the Docker
// engine or a cloud endpoint/profile. The harness sets all of these itself; a step that sets one could
// leave the lab (a "prod" kubeconfig, a remote docker host, a real cloud endpoint) with the lab's guard
// rails still reporting a lab run. Also refused: subcommands that rewrite the tools' own configuration
// (kubectl config set-*, docker context use, aws configure set, az cloud set), which would point later
// steps — or later runs — elsewhere. Checking is conservative: a token that might be such a flag is one.

export interface UnsafeArg {
  /** Index in the step's `run` argv (0 is the tool). */
  readonly index: number
  /** The flag (or subcommand) as the tool would read it, never its value. */
  readonly flag: string
  readonly reason: string
}

const CLUSTER = 'chooses the cluster or credentials'

/** kubectl long flags (pflag: no abbreviations; `--flag=v` or `--flag v`). */
const KUBECTL_LONG: Record<string, string> = {
  kubeconfig: CLUSTER,
  context: CLUSTER,
  cluster: CLUSTER,
  user: CLUSTER,
  server: CLUSTER,
  token: CLUSTER,
  'certificate-authority': CLUSTER,
  'client-certificate': CLUSTER,
  'client-key': CLUSTER,
  'insecure-skip-tls-verify': CLUSTER,
  'tls-server-name': CLUSTER,
  username: CLUSTER,
  password: CLUSTER,
  // These write files on the harness host (as root) wherever the step says.
  profile: 'writes a profile file on the harness host',
  'profile-output': 'writes a profile file on the harness host',
  'log-file': 'writes a log file on the harness host',
  'log-dir': 'writes log files on the harness host',
  'cache-dir': 'chooses where kubectl caches discovery data on the harness host',
}
/** kubectl shorthands that take a value (the rest of a `-abc` cluster is that value). */
const KUBECTL_VALUE_SHORTS = new Set('nolLfckvpeF')
const KUBECTL_CONFIG_READ_ONLY = new Set([
  'view',
  'get-contexts',
  'get-clusters',
  'get-users',
  'current-context',
])

/** docker global options (only before the subcommand): host, context, config dir, TLS material. */
const DOCKER_LONG: Record<string, string> = {
  host: 'chooses the Docker engine',
  context: 'chooses the Docker engine',
  config: 'chooses the Docker client configuration (contexts, credentials)',
  tls: 'chooses TLS for the Docker engine connection',
  tlscacert: 'chooses TLS for the Docker engine connection',
  tlscert: 'chooses TLS for the Docker engine connection',
  tlskey: 'chooses TLS for the Docker engine connection',
  tlsverify: 'chooses TLS for the Docker engine connection',
}
const DOCKER_SHORT: Record<string, string> = { H: 'host', c: 'context' }
const DOCKER_VALUE_SHORTS = new Set('Hcl')
const DOCKER_CONTEXT_READ_ONLY = new Set(['ls', 'list', 'inspect', 'show'])

/** aws (argparse: an unambiguous prefix of a long option is that option, so prefixes count too). */
const AWS_LONG: Record<string, string> = {
  'endpoint-url': 'chooses the AWS endpoint',
  profile: 'chooses AWS credentials',
  'ca-bundle': 'chooses the AWS endpoint TLS trust',
  'no-verify-ssl': 'turns off AWS endpoint TLS verification',
}
const AWS_CONFIGURE_READ_ONLY = new Set(['list', 'get', 'list-profiles', 'export-credentials'])

/** az: the cloud (endpoints) and the CLI configuration are chosen by subcommands, not flags. */
const AZ_CLOUD_READ_ONLY = new Set(['list', 'show', 'list-profiles'])
const AZ_CONFIG_READ_ONLY = new Set(['get'])

/** Subcommand words come from the scenario: keep them short in messages. */
function clip(word: string): string {
  return word.length > 40 ? `${word.slice(0, 40)}…` : word
}

function longName(token: string): string | undefined {
  if (!token.startsWith('--') || token.length === 2) return undefined
  const eq = token.indexOf('=')
  return token.slice(2, eq === -1 ? undefined : eq)
}

/** The positionals of `argv` before a `--`, with their indexes (flag values may be among them). */
function words(argv: readonly string[]): { word: string; index: number }[] {
  const out: { word: string; index: number }[] = []
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') break
    if (!a.startsWith('-')) out.push({ word: a, index: i })
  }
  return out
}

/** A `-abc` shorthand cluster: the first char that takes a value ends it; returns the chars read as flags. */
function shortFlags(token: string, valueShorts: Set<string>): string[] {
  if (!/^-[^-]/.test(token)) return []
  const out: string[] = []
  for (const c of token.slice(1)) {
    if (c === '=') break
    out.push(c)
    if (valueShorts.has(c)) break
  }
  return out
}

function kubectl(argv: readonly string[]): UnsafeArg[] {
  const out: UnsafeArg[] = []
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') break // the rest is the command exec'd in the pod
    const name = longName(a)
    if (name !== undefined) {
      const reason = KUBECTL_LONG[name] ?? (/^as($|-)/.test(name) ? 'chooses whom to impersonate' : undefined)
      if (reason) out.push({ index: i, flag: `--${name}`, reason })
    } else if (shortFlags(a, KUBECTL_VALUE_SHORTS).includes('s')) {
      out.push({ index: i, flag: '-s', reason: CLUSTER })
    }
  }
  const [first, second] = words(argv)
  if (first?.word === 'config' && !KUBECTL_CONFIG_READ_ONLY.has(second?.word ?? '')) {
    out.push({
      index: second?.index ?? first.index,
      flag: `config ${clip(second?.word ?? '')}`.trim(),
      reason: "rewrites the lab's kubeconfig",
    })
  }
  return out
}

function docker(argv: readonly string[]): UnsafeArg[] {
  const out: UnsafeArg[] = []
  let i = 1
  // Global options end at the subcommand; after it, -c/-H mean other things (or belong to the container).
  for (; i < argv.length; i++) {
    const a = argv[i] as string
    if (!a.startsWith('-') || a === '--') break
    const name = longName(a)
    if (name !== undefined) {
      const reason = DOCKER_LONG[name]
      if (reason) out.push({ index: i, flag: `--${name}`, reason })
      if (
        !a.includes('=') &&
        ['host', 'context', 'config', 'log-level', 'tlscacert', 'tlscert', 'tlskey'].includes(name)
      )
        i++
      continue
    }
    const shorts = shortFlags(a, DOCKER_VALUE_SHORTS)
    for (const c of shorts) {
      const long = DOCKER_SHORT[c]
      if (long) out.push({ index: i, flag: `-${c}`, reason: DOCKER_LONG[long] as string })
    }
    const last = shorts.at(-1)
    if (last && DOCKER_VALUE_SHORTS.has(last) && a.length === 2) i++ // `-H value`
  }
  if (argv[i] === 'context') {
    const verb = argv.slice(i + 1).find((a) => !a.startsWith('-'))
    if (verb !== undefined && !DOCKER_CONTEXT_READ_ONLY.has(verb))
      out.push({ index: i, flag: `context ${clip(verb)}`, reason: 'changes the Docker client contexts' })
  }
  return out
}

function aws(argv: readonly string[]): UnsafeArg[] {
  const out: UnsafeArg[] = []
  const names = Object.keys(AWS_LONG)
  for (let i = 1; i < argv.length; i++) {
    const name = longName(argv[i] as string)
    if (name === undefined || name === '') continue
    const hit = names.find((n) => n.startsWith(name))
    if (hit) out.push({ index: i, flag: `--${name}`, reason: AWS_LONG[hit] as string })
  }
  const [first, second] = words(argv)
  if (first?.word === 'configure' && !AWS_CONFIGURE_READ_ONLY.has(second?.word ?? '')) {
    out.push({
      index: second?.index ?? first.index,
      flag: `configure ${clip(second?.word ?? '')}`.trim(),
      reason: 'rewrites the AWS CLI configuration',
    })
  }
  return out
}

function az(argv: readonly string[]): UnsafeArg[] {
  const [first, second] = words(argv)
  const verb = second?.word ?? ''
  if (first?.word === 'cloud' && !AZ_CLOUD_READ_ONLY.has(verb))
    return [
      {
        index: second?.index ?? first.index,
        flag: `cloud ${clip(verb)}`.trim(),
        reason: 'chooses the Azure cloud (its endpoints)',
      },
    ]
  if (first?.word === 'config' && !AZ_CONFIG_READ_ONLY.has(verb))
    return [
      {
        index: second?.index ?? first.index,
        flag: `config ${clip(verb)}`.trim(),
        reason: 'rewrites the az CLI configuration',
      },
    ]
  return []
}

/** Every flag or subcommand in `argv` (a step's `run`) that could take the step out of the lab. */
export function unsafeStepArgs(argv: readonly string[]): UnsafeArg[] {
  switch (argv[0]) {
    case 'kubectl':
      return kubectl(argv)
    case 'docker':
      return docker(argv)
    case 'aws':
      return aws(argv)
    case 'az':
      return az(argv)
    default:
      return []
  }
}
