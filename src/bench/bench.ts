// `npm run bench`: throughput of the offline `evaluate` path (100 Sigma rules) against the floor of
// reading every line and JSON.parse-ing it, over a generated 1,000,000-line Kubernetes audit log.
// Both use the same line reader; runs alternate (a, b, a, b, …) and the median of each is reported.
// Throughput is lines per second of process CPU time (user + system): the benchmark machine is shared,
// and CPU time is what other load does not inflate. Wall-clock figures are printed alongside.
// Env: PURPLEKIND_BENCH_LINES, PURPLEKIND_BENCH_SEED, PURPLEKIND_BENCH_ROUNDS, PURPLEKIND_BENCH_DIR.
import { tmpdir } from 'node:os'
import { runEvaluate } from '../cli/commands/evaluate.js'
import type { EvaluateFileStats } from '../detection/engine.js'
import { forEachLine } from '../detection/engine.js'
import { ensureBenchData } from './generate.js'

interface Run {
  /** Process CPU time (user + system). */
  ms: number
  wallMs: number
  lines: number
}

function startClock() {
  const cpu = process.cpuUsage()
  const wall = performance.now()
  return () => {
    const used = process.cpuUsage(cpu)
    return { ms: (used.user + used.system) / 1000, wallMs: performance.now() - wall }
  }
}

function envInt(name: string, fallback: number): number {
  const value = process.env[name]
  const n = value === undefined ? fallback : Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${value}`)
  return n
}

/** (a) the floor: read every line, decode it, JSON.parse it. */
async function baseline(file: string): Promise<Run> {
  const stop = startClock()
  let sink = 0
  const lines = await forEachLine(file, (bytes, s, e) => {
    const record = JSON.parse(bytes.toString('utf8', s, e)) as { verb?: string }
    if (record.verb === 'delete') sink++
  })
  if (sink < 0) throw new Error('unreachable')
  return { ...stop(), lines }
}

/** (b) the real command: load and compile the rules, stream the file, format every alert as JSON. */
async function evaluate(file: string, rulesDir: string) {
  const stop = startClock()
  let alerts = 0
  let stats: EvaluateFileStats | undefined
  await runEvaluate(
    { rules: [rulesDir], events: [file], source: 'auto', format: 'jsonl' },
    () => {
      alerts++
    },
    { onFileDone: (_, s) => (stats = s) },
  )
  if (!stats) throw new Error('evaluate reported no file')
  return { ...stop(), lines: stats.lines, alerts, parsed: stats.parsed }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const eps = (run: Run) => run.lines / (run.ms / 1000)
const wallEps = (run: Run) => run.lines / (run.wallMs / 1000)
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

async function main(): Promise<void> {
  const lines = envInt('PURPLEKIND_BENCH_LINES', 1_000_000)
  const seed = envInt('PURPLEKIND_BENCH_SEED', 1552007)
  const rounds = envInt('PURPLEKIND_BENCH_ROUNDS', 3)
  const t0 = performance.now()
  const data = await ensureBenchData({ root: process.env.PURPLEKIND_BENCH_DIR ?? tmpdir(), seed, lines })
  console.log(
    `data: ${data.events} (${lines} lines, seed ${seed}), rules: ${data.rulesDir} (ready in ${fmt(performance.now() - t0)} ms)`,
  )

  const parseEps: number[] = []
  const evalEps: number[] = []
  let last: Awaited<ReturnType<typeof evaluate>> | undefined
  for (let round = 1; round <= rounds; round++) {
    const a = await baseline(data.events)
    parseEps.push(eps(a))
    console.log(
      `round ${round} (a) read+JSON.parse: cpu ${fmt(a.ms)} ms (${fmt(eps(a))} events/s), ` +
        `wall ${fmt(a.wallMs)} ms (${fmt(wallEps(a))} events/s)`,
    )
    const b = await evaluate(data.events, data.rulesDir)
    evalEps.push(eps(b))
    last = b
    console.log(
      `round ${round} (b) evaluate, 100 rules: cpu ${fmt(b.ms)} ms (${fmt(eps(b))} events/s), ` +
        `wall ${fmt(b.wallMs)} ms (${fmt(wallEps(b))} events/s), ` +
        `${fmt(b.alerts)} alerts, ${fmt(b.parsed)} lines parsed after the prefilter (${((100 * b.parsed) / b.lines).toFixed(1)}%)`,
    )
  }
  const a = median(parseEps)
  const b = median(evalEps)
  const rssMb = Math.round(process.resourceUsage().maxRSS / 1024)
  console.log(
    `median of ${rounds} rounds each (CPU time): parse ${fmt(a)} events/s, evaluate ${fmt(b)} events/s`,
  )
  console.log(`alerts: ${fmt(last?.alerts ?? 0)}; peak RSS: ${rssMb} MB`)
  console.log(
    `ratio=${(b / a).toFixed(2)} evaluate_eps=${Math.round(b)} parse_eps=${Math.round(a)} rss_mb=${rssMb}`,
  )
}

await main()
