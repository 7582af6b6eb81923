import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import Docker from 'dockerode'
import { PurpleError } from '../../errors.js'
import { buildAssets, cacheRoot } from '../../lab/assets.js'
import { chooseProvider } from '../../lab/detect.js'
import { DEFAULT_DOCKER_SOCKET } from '../../lab/docker/engine.js'
import { liveRuns, sweepJournals } from '../../lab/journal.js'
import { kindClusterName } from '../../lab/kind/index.js'
import { buildNodeImage } from '../../lab/kind/node-image.js'
import { mergeLabContext, removeLabContext } from '../../lab/kubeconfig-merge.js'
import { labDir, labHome, sweepSandbox } from '../../lab/local/index.js'
import type { LabProvider } from '../../lab/provider.js'
import { LAB_PROVIDERS, loadProviders, providerDescriptor } from '../../lab/registry.js'
import { sweep } from '../../lab/sweep.js'
import { createOutput } from '../../util/output.js'

/** `auto`: for `up`, the best lab available; for down/status, the kind lab if one runs, else local. */
async function pickProvider(
  env: string,
  action: string,
  lab: string,
  log: (l: string) => void,
): Promise<LabProvider> {
  if (env !== 'auto') return provider(env)
  const managed = await loadProviders({}, (d) => d.managed)
  if (action === 'up') {
    const choice = await chooseProvider('auto', managed)
    log(choice.reason)
    return choice.provider
  }
  // down/status: the first managed lab of that name that runs (registry order), else the last.
  const all = Object.values(managed)
  for (const p of all) if ((await p.status({ name: lab }).catch(() => ({ running: false }))).running) return p
  const last = all.at(-1)
  if (!last) throw new PurpleError('PURPLE_INTERNAL', 'no managed lab provider is registered')
  return last
}

async function provider(env: string): Promise<LabProvider> {
  const d = providerDescriptor(env)
  if (!d?.managed)
    throw new PurpleError(
      'PURPLE_USAGE',
      `--env ${env}: lab commands manage ${LAB_PROVIDERS.filter((p) => p.managed)
        .map((p) => p.name)
        .join(' or ')} labs`,
    )
  return d.load({})
}

/** `--older-than`: 90s, 30m, 6h, 2d. */
export function parseAge(text: string): number {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text)
  if (!m)
    throw new PurpleError('PURPLE_USAGE', `--older-than must be a duration like 30m, 6h or 2d, got "${text}"`)
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']
}

// `purplekind lab build|up|down|status` and `purplekind sweep`.
export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('manage a purplekind lab')
  lab
    .command('build')
    .description(
      'build a lab from Go modules and Debian packages: local (etcd, kube-apiserver, kube-controller-manager, kubectl, kwok) or kind (its node image)',
    )
    .option('--env <env>', 'local | kind', 'local')
    .action(async (f: { env: string }) => {
      const o = createOutput(program.opts())
      if (f.env === 'kind') {
        const image = await buildNodeImage(o.log)
        o.out(o.json ? JSON.stringify({ nodeImage: image }) : `kind node image ${image}`)
        return
      }
      await provider(f.env)
      const assets = await buildAssets(o.log)
      o.out(o.json ? JSON.stringify(assets) : `binaries in ${assets.binDir}`)
    })
  for (const [name, desc] of [
    ['up', 'bring the lab up (idempotent)'],
    ['down', 'tear the lab down'],
    ['status', 'show whether the lab runs (exit 0 healthy, 1 not running or unhealthy)'],
  ] as const) {
    lab
      .command(name)
      .description(desc)
      .option('--env <env>', 'auto (kind where Docker works, else local) | local | kind', 'auto')
      .option('--lab <name>', 'lab name', 'default')
      .action(async (f: { env: string; lab: string }) => {
        const o = createOutput(program.opts())
        const p = await pickProvider(f.env, name, f.lab, o.log)
        if (name === 'up') {
          const started = Date.now()
          const l = await p.up({ name: f.lab, log: o.log })
          const secs = ((Date.now() - started) / 1000).toFixed(1)
          // Like kind: the lab's context goes into the user's kubeconfig, under one name per lab.
          const context = `purplekind-${f.lab}`
          const merged = await mergeLabContext({
            labKubeconfig: l.kubeconfig,
            context: l.context,
            as: context,
          })
          // The lab stays up; host services this process started for it (kind's relays) are restarted
          // at the same addresses by the next run.
          await l.release?.()
          o.out(
            o.json
              ? JSON.stringify({
                  provider: l.provider,
                  context,
                  kubeconfig: merged,
                  labKubeconfig: l.kubeconfig,
                  seconds: Number(secs),
                })
              : `${l.provider} lab ${f.lab} up in ${secs} s — kubectl --context ${context} get ns  (context merged into ${merged})`,
          )
        } else if (name === 'down') {
          await p.down({ name: f.lab, log: o.log })
          await removeLabContext({ name: `purplekind-${f.lab}` })
          o.out(o.json ? JSON.stringify({ down: f.lab }) : `lab ${f.lab} down`)
        } else {
          const s = await p.status({ name: f.lab })
          o.out(
            o.json
              ? JSON.stringify(s)
              : `${s.running ? o.color.green('running') : o.color.yellow('not running')}: ${s.detail}`,
          )
          // Scripts and CI gate on this: a stopped or unhealthy lab is not a success.
          if (!s.running) process.exitCode = 1
        }
      })
  }
  lab
    .command('kubeconfig')
    .description("print the path of the lab's kubeconfig (its context is also merged into yours on lab up)")
    .option('--lab <name>', 'lab name', 'default')
    .action((f: { lab: string }) => {
      const o = createOutput(program.opts())
      const kind = path.join(cacheRoot(), 'labs', kindClusterName(f.lab), 'kubeconfig')
      const file = existsSync(kind) ? kind : path.join(labDir(f.lab), 'kubeconfig')
      if (!existsSync(file))
        throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${file}: no kubeconfig for lab "${f.lab}"`, {
          hint: `bring it up: purplekind lab up --lab ${f.lab}`,
        })
      o.out(o.json ? JSON.stringify({ kubeconfig: file, context: `purplekind-${f.lab}` }) : file)
    })
  program
    .command('sweep')
    .description(
      'remove everything purplekind created (crashed runs), in a lab context and the Docker Engine',
    )
    .option('--lab <name>', 'local lab whose kubeconfig to use', 'default')
    .option('--kubeconfig <file>', "kubeconfig (default: the local lab's)")
    .option('--context <name>', 'context (default: purplekind-<lab>)')
    .option(
      '--allow-context <name>',
      'allow a context that is not a purplekind lab (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--dry-run', 'only list what would be removed')
    .option('--no-docker', "leave the Docker Engine alone (another run's containers may be in use)")
    .option('--older-than <duration>', 'only what is at least this old, e.g. 30m, 6h, 2d')
    .action(
      async (f: {
        docker: boolean
        lab: string
        kubeconfig?: string
        context?: string
        allowContext: string[]
        dryRun?: boolean
        olderThan?: string
      }) => {
        const o = createOutput(program.opts())
        const olderThanMs = f.olderThan === undefined ? undefined : parseAge(f.olderThan)
        const age = olderThanMs === undefined ? {} : { olderThanMs }
        // Host leftovers of runs killed outright (processes, secret files, sockets), from their journals.
        // A run whose journal's process is alive is in progress: neither its host resources nor its lab
        // objects are touched.
        const host = await sweepJournals(labHome(), { dryRun: Boolean(f.dryRun), ...age })
        const live = liveRuns(labHome())
        if (!o.json) {
          for (const r of host.removed) o.out(`${f.dryRun ? 'would remove' : 'removed'} ${r}`)
          for (const id of host.live) o.log(`run ${id} is still running: its resources are left alone`)
        }
        // Commands a killed run left in the local lab's exec sandbox; a live run may be using it.
        const sandboxKilled =
          host.live.length || f.dryRun || process.getuid?.() !== 0 ? 0 : await sweepSandbox(f.lab)
        if (sandboxKilled && !o.json)
          o.out(`killed ${sandboxKilled} process(es) left in the exec sandbox of lab ${f.lab}`)
        const kubeconfig = f.kubeconfig ?? path.join(labDir(f.lab), 'kubeconfig')
        if (!existsSync(kubeconfig))
          throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${kubeconfig}: no kubeconfig`, {
            hint: 'pass --kubeconfig, or bring the lab up',
          })
        const docker =
          f.docker && existsSync(DEFAULT_DOCKER_SOCKET)
            ? new Docker({ socketPath: DEFAULT_DOCKER_SOCKET })
            : undefined
        const report = await sweep({
          kubeconfig,
          context: f.context ?? `purplekind-${f.lab}`,
          allowContexts: f.allowContext,
          ...(docker ? { docker } : {}),
          dryRun: Boolean(f.dryRun),
          liveRuns: live,
          ...age,
        })
        if (o.json) o.out(JSON.stringify({ ...report, host, sandboxKilled }))
        else {
          for (const r of report.removed)
            o.out(
              `${report.dryRun ? 'would remove' : 'removed'} ${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`,
            )
          if (report.live.length)
            o.log(
              `${report.live.length} object(s) of running run(s) ${[...new Set(report.live.map((i) => i.runId))].join(', ')} left alone`,
            )
          for (const x of report.failed)
            o.log(`${o.color.red('✖')} ${x.item.kind}/${x.item.name}: ${x.error}`)
          o.out(`${report.removed.length} object(s)${report.dryRun ? ' (dry run)' : ''}`)
        }
        if (report.failed.length) process.exitCode = 2
      },
    )
}
