// Seeded, time-bounded fuzzing of scenario files (issue #8 item 7): mutations of the shipped scenarios
// and generated hostile YAML. Every input must end in a scenario or in coded PURPLE_SCENARIO_* issues
// naming the file — never an exception (the CLI's PURPLE_INTERNAL) — each within a generous time bound.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../../src/scenario/load.js'

const SEED = Number(process.env.PURPLEKIND_FUZZ_SEED ?? 0x5eed8)
const INPUTS = Number(process.env.PURPLEKIND_FUZZ_INPUTS ?? 2400)
/** Per input; the CI machine has 2 shared cores, and the largest inputs are near the 256 KiB cap. */
const PER_INPUT_MS = 5000

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  return { next, int, pick }
}

const dir = 'scenarios/t1552.007'
const seeds = readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8'))

const TOKENS = [
  '&a ',
  '*a',
  '*b',
  '<<: *a\n',
  '!!binary ',
  '!!js/function ',
  '!<tag:x> ',
  '? ',
  '- ',
  ': ',
  '|\n',
  '>-\n',
  '---\n',
  '...\n',
  '%YAML 1.1\n',
  '\t',
  '{',
  '}',
  '[',
  ']',
  ',',
  '"',
  "'",
  '#',
  '\\u0000',
  '\0',
  '\u202e',
  '\ud800',
  '~',
  'null',
  '.nan',
  '0x1F',
  '1e999',
  '-.inf',
  'y',
  'NO',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder scenarios use
  '${runId}',
  '--kubeconfig=/x',
  '-H',
  'tcp://1.2.3.4',
  '\r\n',
  '\n  ',
  '\n- id: x\n',
  'run: [kubectl, --context, prod]',
  'actor: {user: x}',
]

function mutate(r: ReturnType<typeof rng>, text: string): string {
  let s = text
  const n = 1 + r.int(6)
  for (let k = 0; k < n; k++) {
    const at = r.int(s.length + 1)
    switch (r.int(7)) {
      case 0: // insert a YAML-special token
        s = s.slice(0, at) + r.pick(TOKENS) + s.slice(at)
        break
      case 1: // delete a span
        s = s.slice(0, at) + s.slice(at + r.int(40))
        break
      case 2: // flip a byte
        s = s.slice(0, at) + String.fromCharCode(r.int(0x3000)) + s.slice(at + 1)
        break
      case 3: {
        // duplicate or shuffle lines
        const lines = s.split('\n')
        const i = r.int(lines.length)
        const j = r.int(lines.length)
        if (r.int(2)) lines.splice(j, 0, lines[i] as string)
        else [lines[i], lines[j]] = [lines[j] as string, lines[i] as string]
        s = lines.join('\n')
        break
      }
      case 4: // re-indent a line
        s = s.replace(/\n( *)/, (_m, sp: string) => `\n${' '.repeat(Math.max(0, sp.length + r.int(5) - 2))}`)
        break
      case 5: // splice in part of another scenario
        s = s.slice(0, at) + r.pick(seeds).slice(r.int(500), r.int(2000)) + s.slice(at)
        break
      default: // a long value
        s = `${s.slice(0, at)}${'x'.repeat(r.int(5000))}${s.slice(at)}`
    }
  }
  return s
}

let lastKind = ''
function hostile(r: ReturnType<typeof rng>): string {
  const kind = r.int(9)
  lastKind = `hostile${kind}`
  switch (kind) {
    case 0: {
      const width = 2 + r.int(9)
      let t = `a0: &a0 [${Array(width).fill('"x"').join(',')}]\n`
      for (let i = 1; i <= 2 + r.int(10); i++)
        t += `a${i}: &a${i} [${Array(width)
          .fill(`*a${i - 1}`)
          .join(',')}]\n`
      return t
    }
    case 1: {
      const d = r.int(3000)
      const [o, c] = r.pick([
        ['[', ']'],
        ['{a: ', '}'],
        ['- ', ''],
      ] as const)
      return `steps: ${o.repeat(d)}x${c.repeat(d)}\n`
    }
    case 2: {
      let t = ''
      for (let i = 0, n = r.int(700); i < n; i++) t += `${' '.repeat(i)}k${i}:\n`
      return t
    }
    case 3:
      return `metadata: {title: "${'y'.repeat(r.int(400_000))}"}\n`
    case 4: {
      let t = ''
      for (let i = 0, n = r.int(1500); i < n; i++) t += `k${r.int(n + 1)}: ${i}\n`
      return t
    }
    case 5:
      return Array.from({ length: r.int(3000) }, () => String.fromCharCode(r.int(0x10000))).join('')
    case 6:
      return `${r.pick(seeds)}\n${r.pick(['*undefined', '&x', '<<: *y', ': :', '- - -', '!!int "x"'])}\n`
    case 7: {
      // a valid-looking scenario whose steps carry random flags
      const s = r.pick(seeds)
      return s.replace(
        /run: \[([^\]]*)\]/g,
        (_m, args: string) => `run: [${args}, ${r.pick(TOKENS).replace(/[\n[\]{},]/g, '')}]`,
      )
    }
    default: {
      const docs = Array.from({ length: 1 + r.int(4) }, () => r.pick(seeds)).join('\n---\n')
      return docs
    }
  }
}

describe('scenario fuzzing', () => {
  it(`${INPUTS} seeded inputs: 0 exceptions, only coded PURPLE_SCENARIO_* issues naming the file`, () => {
    const r = rng(SEED)
    const file = 'fuzz/input.yaml'
    const codes = new Map<string, number>()
    let valid = 0
    let slowest = 0
    const crashes: string[] = []
    const started = Date.now()
    const perKind = new Map<string, number>()
    for (let n = 0; n < INPUTS; n++) {
      lastKind = 'mutate'
      const text = r.int(3) === 0 ? hostile(r) : mutate(r, r.pick(seeds))
      const t0 = Date.now()
      try {
        const result = parseScenario(text, file)
        if ('scenario' in result) valid++
        else {
          expect(result.issues.length).toBeGreaterThan(0)
          expect(result.issues.length).toBeLessThanOrEqual(50)
          for (const i of result.issues) {
            codes.set(i.code, (codes.get(i.code) ?? 0) + 1)
            if (i.file !== file || !i.code.startsWith('PURPLE_SCENARIO_') || i.message.length > 600)
              crashes.push(`#${n}: bad issue ${JSON.stringify(i).slice(0, 200)}`)
          }
        }
      } catch (err) {
        crashes.push(`#${n} (seed ${SEED}): ${(err as Error).name}: ${(err as Error).message.slice(0, 200)}`)
      }
      const ms = Date.now() - t0
      perKind.set(lastKind, (perKind.get(lastKind) ?? 0) + ms)
      slowest = Math.max(slowest, ms)
      if (ms > PER_INPUT_MS) crashes.push(`#${n} (seed ${SEED}): took ${ms} ms`)
    }
    console.log(
      `scenario fuzz: ${INPUTS} inputs (seed ${SEED}) in ${Date.now() - started} ms, ${valid} valid, slowest ${slowest} ms, ` +
        `${crashes.length} PURPLE_INTERNAL/over-time; issue codes ${JSON.stringify(Object.fromEntries(codes))}`,
    )
    console.log(`scenario fuzz: ms per generator ${JSON.stringify(Object.fromEntries(perKind))}`)
    expect(crashes).toEqual([])
  }, 300_000)
})
