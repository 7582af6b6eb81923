// `run` / `replay` argv → RunSpec: parsed by the real commander definitions (registerRunCommands), then
// mapped by runSpecFromFlags / replaySpecFromFlags — the whole of what the CLI decides before a run.
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { registerRunCommands } from '../../../src/cli/commands/run.js'
import { type RunFlags, replaySpecFromFlags, runSpecFromFlags } from '../../../src/cli/commands/run-flags.js'
import type { RunSpec } from '../../../src/run/spec.js'

/** Parses argv with the real command definitions; the command's action is swapped for the mapping. */
async function specOf(...argv: string[]): Promise<RunSpec> {
  const program = new Command().exitOverride()
  registerRunCommands(program)
  let spec: RunSpec | undefined
  program.commands
    .find((c) => c.name() === 'run')
    ?.action((paths: string[], f: RunFlags) => {
      spec = runSpecFromFlags(paths, f)
    })
  program.commands
    .find((c) => c.name() === 'replay')
    ?.action((recording: string, paths: string[], f: RunFlags) => {
      spec = replaySpecFromFlags(recording, paths, f)
    })
  await program.parseAsync(argv, { from: 'user' })
  if (!spec) throw new Error('no spec built')
  return spec
}

const noSelection = { only: [], technique: [], tag: [] }

describe('run flags → RunSpec', () => {
  it('maps a bare `run` to the defaults: auto lab "default", shipped scenarios and rules, one pass', async () => {
    expect(await specOf('run')).toEqual({
      scenarios: { paths: ['scenarios'], select: noSelection },
      rules: { paths: [], macros: [] },
      pipelines: [],
      reports: { dir: 'reports', strictBenign: false, strict: false },
      source: {
        kind: 'lab',
        env: 'auto',
        name: 'default',
        allowContexts: [],
        keep: false,
        repeat: 1,
        stepTimeoutMs: 60_000,
        builtinCounts: true,
      },
    })
  })

  it('maps every lab, intake, judging and selection flag', async () => {
    const spec = await specOf(
      'run',
      '--env',
      'existing',
      '--kubeconfig',
      '/k/config',
      '--context',
      'prod-like',
      '--allow-context',
      'prod-like',
      '--audit-log',
      '/var/log/audit.log',
      '--audit-policy',
      '/etc/policy.yaml',
      '--i-know-this-is-not-a-lab',
      '--alerts-listen',
      '8080',
      '--alerts-token-file',
      '/t/token',
      '--no-builtin',
      '--repeat',
      '3',
      '--step-timeout',
      '2m',
      '--keep',
      '--lab',
      'blue',
      '--reports',
      'out',
      '--baseline',
      'out/last',
      '--strict',
      '--strict-benign',
      '--rules',
      'r1',
      '--rules',
      'r2',
      '--macros',
      'macros.conf',
      '--pipeline',
      'builtin',
      '--pipeline',
      'command=./detect.py',
      '--only',
      't1552.007*/list-*',
      '--technique',
      'T1552',
      '--tag',
      'cloud',
      '--shard',
      '1/2',
      'a.yaml',
      'b/',
    )
    expect(spec).toEqual({
      scenarios: {
        paths: ['a.yaml', 'b/'],
        select: { only: ['t1552.007*/list-*'], technique: ['T1552'], tag: ['cloud'], shard: '1/2' },
      },
      rules: { paths: ['r1', 'r2'], macros: ['macros.conf'] },
      pipelines: ['builtin', 'command=./detect.py'],
      reports: { dir: 'out', baseline: 'out/last', strictBenign: true, strict: true },
      source: {
        kind: 'lab',
        env: 'existing',
        name: 'blue',
        allowContexts: ['prod-like'],
        existing: {
          kubeconfig: '/k/config',
          context: 'prod-like',
          allowContexts: ['prod-like'],
          audit: { logFile: '/var/log/audit.log' },
          iKnowThisIsNotALab: true,
          policyFile: '/etc/policy.yaml',
        },
        keep: true,
        repeat: 3,
        stepTimeoutMs: 120_000,
        intake: { port: 8080, tokenFile: '/t/token' },
        builtinCounts: false,
      },
    })
  })

  it('maps `run --env replay --from` and `replay` to the same replay spec (no lab)', async () => {
    const viaRun = await specOf('run', '--env', 'replay', '--from', 'rec', '--tag', 'docker', 's')
    const viaReplay = await specOf('replay', 'rec', 's', '--tag', 'docker')
    expect(viaRun.source).toEqual({ kind: 'replay', recording: 'rec' })
    expect(viaRun.scenarios).toEqual({ paths: ['s'], select: { ...noSelection, tag: ['docker'] } })
    expect(viaReplay).toEqual(viaRun)
  })

  it('records the --record directory; only --env existing carries cluster options', async () => {
    const spec = await specOf('run', '--env', 'local', '--record', 'rec', '--kubeconfig', 'ignored')
    expect(spec.source).toMatchObject({ kind: 'lab', env: 'local', record: 'rec' })
    expect(spec.source).not.toHaveProperty('existing')
  })

  it('refuses flag combinations before any scenario is read (PURPLE_USAGE, naming the flag)', async () => {
    for (const [argv, message] of [
      [['--env', 'replay'], /--env replay needs --from/],
      [['--env', 'existing', '--kubeconfig', 'k'], /--env existing needs --kubeconfig and --context/],
      [['--env', 'existing', '--kubeconfig', 'k', '--context', 'c'], /needs --audit-log/],
      [['--repeat', '2', '--record', 'd'], /--record records one run/],
      [['--repeat', '0'], /--repeat must be a whole number from 1 to 100/],
      [['--step-timeout', '10'], /--step-timeout must be a duration/],
      [['--alerts-token', 'secret-on-argv'], /--alerts-token is gone/],
      [['--no-builtin'], /need --alerts-listen/],
      [['--alerts-listen', '70000'], /--alerts-listen must be a port number/],
    ] as const) {
      await expect(specOf('run', ...argv), argv.join(' ')).rejects.toMatchObject({
        code: 'PURPLE_USAGE',
        message: expect.stringMatching(message),
      })
    }
  })

  it('accepts --no-builtin with an http pipeline instead of --alerts-listen', async () => {
    const spec = await specOf('run', '--pipeline', 'http=9000', '--no-builtin')
    expect(spec.pipelines).toEqual(['http=9000'])
    expect(spec.source).toMatchObject({ builtinCounts: false })
    expect(spec.source).not.toHaveProperty('intake')
  })
})
