// `npm run bench`: the offline `evaluate` command measured the way users run it — a fresh
// `node dist/cli/main.js evaluate` process per run, start-up and rule loading included, alerts written
// to a pipe — on two rule sets (the generated 100 rules, and a 16-rule Kubernetes set shaped like the
// community's), against the floor of a process that only reads every line and JSON.parses it.
// Runs alternate (floor, 100 rules, k8s set, floor, …) and medians are reported. Throughput is lines per
// second of the measured process's CPU time (user + system): the machine is shared, and CPU time is what
// other load inflates least. Wall-clock figures are printed alongside.
// Env: PURPLEKIND_BENCH_LINES, PURPLEKIND_BENCH_SEED, PURPLEKIND_BENCH_ROUNDS, PURPLEKIND_BENCH_DIR.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBenchData } from './generate.js'

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
const PROBE = here('probe.js')
const FLOOR = here('floor.js')
const CLI = here('../cli/main.js')

interface Run {
  cpuMs: number
  wallMs: number
  maxRssMb: number
  /** Lines the process wrote to stdout (alerts, for evaluate). */
  outputLines: number
}

/** Runs `node --import probe.js <args>` and reads its own CPU time and peak RSS back from the probe. */
async function measure(args: string[], probeFile: string): Promise<Run> {
  const t0 = performance.now()
  const child = spawn(process.execPath, ['--import', PROBE, ...args], {
    env: { ...process.env, PURPLEKIND_BENCH_PROBE: probeFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let outputLines = 0
  child.stdout.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) outputLines++
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`)
  const probe = JSON.parse(await readFile(probeFile, 'utf8')) as { cpuMs: number; maxRssKb: number }
  return { cpuMs: probe.cpuMs, wallMs: performance.now() - t0, maxRssMb: probe.maxRssKb / 1024, outputLines }
}

function envInt(name: string, fallback: number): number {
  const value = process.env[name]
  const n = value === undefined ? fallback : Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${value}`)
  return n
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

async function main(): Promise<void> {
  const lines = envInt('PURPLEKIND_BENCH_LINES', 1_000_000)
  const seed = envInt('PURPLEKIND_BENCH_SEED', 1552007)
  const rounds = envInt('PURPLEKIND_BENCH_ROUNDS', 3)
  const t0 = performance.now()
  const data = await ensureBenchData({ root: process.env.PURPLEKIND_BENCH_DIR ?? tmpdir(), seed, lines })
  console.log(
    `data: ${data.events} (${lines} lines, seed ${seed}), rules: ${data.rulesDir} and ${data.k8sRulesDir} ` +
      `(ready in ${fmt(performance.now() - t0)} ms)`,
  )
  const scratch = await mkdtemp(join(tmpdir(), 'purplekind-bench-probe-'))
  const probe = join(scratch, 'probe.json')
  const evaluate = (rules: string) => [CLI, 'evaluate', '--rules', rules, '--events', data.events]
  const runs = [
    { name: 'floor (read + JSON.parse)', args: [FLOOR, data.events] },
    { name: 'evaluate, 100 rules', args: evaluate(data.rulesDir) },
    { name: 'evaluate, k8s set', args: evaluate(data.k8sRulesDir) },
  ]
  const eps: number[][] = runs.map(() => [])
  const rss: number[][] = runs.map(() => [])
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [k, run] of runs.entries()) {
        const r = await measure(run.args, probe)
        eps[k]!.push(lines / (r.cpuMs / 1000))
        rss[k]!.push(r.maxRssMb)
        const alerts = k > 0 ? `, ${fmt(r.outputLines)} alerts` : ''
        console.log(
          `round ${round} ${run.name}: cpu ${fmt(r.cpuMs)} ms (${fmt(lines / (r.cpuMs / 1000))} events/s), ` +
            `wall ${fmt(r.wallMs)} ms (${fmt(lines / (r.wallMs / 1000))} events/s), peak RSS ${fmt(r.maxRssMb)} MB${alerts}`,
        )
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
  const [floor, hundred, k8s] = eps.map(median) as [number, number, number]
  console.log(`median of ${rounds} rounds, events per CPU second (floor = read + JSON.parse every line):`)
  console.log(
    `  100 rules: evaluate ${fmt(hundred)} vs floor ${fmt(floor)} (${(hundred / floor).toFixed(2)}x)`,
  )
  console.log(`  k8s set:   evaluate ${fmt(k8s)} vs floor ${fmt(floor)} (${(k8s / floor).toFixed(2)}x)`)
  const rssMb = Math.round(Math.max(...rss[1]!, ...rss[2]!))
  console.log(`peak RSS of evaluate: ${rssMb} MB`)
  console.log(
    `ratio=${(hundred / floor).toFixed(2)} evaluate_eps=${Math.round(hundred)} parse_eps=${Math.round(floor)} rss_mb=${rssMb}`,
  )
}

await main()
