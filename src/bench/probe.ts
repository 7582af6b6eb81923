// Preloaded into each measured process (`node --import …/probe.js`): at exit it writes the process's own
// CPU time (user + system, start-up included) and peak RSS to the file named by PURPLEKIND_BENCH_PROBE.
import { writeFileSync } from 'node:fs'

const out = process.env.PURPLEKIND_BENCH_PROBE
if (out) {
  process.on('exit', () => {
    const { userCPUTime, systemCPUTime, maxRSS } = process.resourceUsage()
    writeFileSync(out, JSON.stringify({ cpuMs: (userCPUTime + systemCPUTime) / 1000, maxRssKb: maxRSS }))
  })
}
