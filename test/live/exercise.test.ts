// `purplekind exercise start --seed 7` on the real local lab, with a short duration for CI. A scripted blue
// team — a real program running as another user (uid 65534) — tails the exercise's telemetry file and
// posts alerts for some attacks (and one false finding) and a hand-written finding through
// `exercise submit`; a second team posts nothing. Checked: the plan cannot be read by the blue side
// before the debrief; the debrief's recall and precision are exactly what the revealed plan implies; it
// has the timeline SVG and names every missed attack; the plan is the one the seed gives; telemetry was
// forwarded to a real HEC and JSON-lines endpoint on loopback; record + replay scores a new student with
// no lab.
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa, type ResultPromise } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import type { DebriefReport } from '../../src/exercise/debrief.js'
import { buildPlan } from '../../src/exercise/plan.js'
import { cacheBinDir, missingBinaries } from '../../src/lab/assets.js'
import { localProvider } from '../../src/lab/local/index.js'
import { loadScenarios } from '../../src/scenario/load.js'

const log = (line: string) => console.log(`[exercise] ${line}`)
const isRoot = process.getuid?.() === 0
const missing = missingBinaries(cacheBinDir())
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0
const why = !isRoot
  ? 'the local lab needs root'
  : missing.length
    ? `lab binaries missing in ${cacheBinDir()} (${missing.join(', ')}): run purplekind lab build`
    : !hasSetpriv
      ? 'setpriv is needed to run the blue team as another user'
      : ''
if (why) console.log(`[exercise] SKIPPED: ${why}`)

const ONLY = 'list-secrets,read-secret,exec-sa-token'
const DURATION = '75s'
const CLI = path.resolve('dist/cli/main.js')
const BLUE = path.resolve('test/fixtures/exercise/blue-team.mjs')
const asNobody = (cmd: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    timeout: 60_000,
  })

/** Runs the CLI; resolves the token file of `team` once the CLI prints it. */
function cli(args: string[], env: NodeJS.ProcessEnv) {
  const child = execa('node', [CLI, ...args], {
    reject: false,
    env: { ...env, NO_COLOR: '1' },
    timeout: 600_000,
  }) as ResultPromise
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString()
    process.stdout.write(`[exercise cli] ${c.toString()}`)
  })
  const tokenFile = async (team: string) => {
    for (let i = 0; i < 6000; i++) {
      const m = new RegExp(`team ${team}: token in (\\S+)`).exec(stderr)
      if (m?.[1]) return m[1]
      if (child.exitCode !== null) break
      await sleep(100)
    }
    throw new Error(`no token for ${team}: ${stderr}`)
  }
  return { child, tokenFile, stderr: () => stderr }
}

/** Hands a team token out: a copy the blue user can read. */
async function handOut(file: string, dir: string, team: string): Promise<string> {
  const copy = path.join(dir, `${team}.token`)
  await copyFile(file, copy)
  await chmod(copy, 0o644)
  return copy
}

function readableFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...readableFiles(p))
    else out.push(p)
  }
  return out
}

const blueLog = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; auditID?: string; status?: number | string })
    : []

/** The attacks the blue script's rules cover, decided from the revealed plan alone. */
function blueCatches(a: DebriefReport['attacks'][number]): boolean {
  const humanList = /kubectl get secrets( |$)/.test(a.command) && !a.identity.startsWith('system:')
  const execToken = a.command.includes(' exec ') && a.command.includes('serviceaccount/token')
  return humanList || execToken
}

describe.skipIf(Boolean(why))('exercise on the local lab (live)', () => {
  // The exercise leaves its lab up for the debrief; the test takes it down.
  afterAll(async () => {
    await localProvider.down({ name: 'exercise', log: () => undefined })
  })

  it('runs a sealed, seeded plan; a scripted blue team scores exactly what the plan implies; replay scores a student', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'pk-exercise-'))
    await chmod(tmp, 0o755)
    const dir = path.join(tmp, 'ex')
    const blueDir = path.join(tmp, 'blue')
    await mkdir(blueDir)
    await chmod(blueDir, 0o777)
    const env = { ...process.env, PURPLEKIND_INSTRUCTOR_DIR: path.join(tmp, 'instructor') }

    // A real HEC + JSON-lines receiver on loopback.
    const got = { hec: [] as { auth?: string; body: string }[], jsonl: [] as string[] }
    const siem = createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      const body = Buffer.concat(chunks).toString()
      if (req.url === '/services/collector/event')
        got.hec.push({ ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), body })
      else got.jsonl.push(body)
      res.writeHead(200).end('{"text":"Success","code":0}')
    })
    siem.listen(0, '127.0.0.1')
    await once(siem, 'listening')
    const siemUrl = `http://127.0.0.1:${(siem.address() as AddressInfo).port}`

    const t0 = Date.now()
    const start = cli(
      [
        'exercise',
        'start',
        'scenarios',
        '--seed',
        '7',
        '--duration',
        DURATION,
        '--only',
        ONLY,
        '--attacks',
        '5',
        '--team',
        'alpha',
        '--team',
        'beta',
        '--dir',
        dir,
        '--lab',
        'exercise',
        '--env',
        'local',
        '--grace',
        '8s',
        '--forward-hec',
        `${siemUrl}/services/collector/event`,
        '--hec-token',
        'hec-token-live',
        '--forward-jsonl',
        `${siemUrl}/jsonl`,
      ],
      env,
    )
    const alphaToken = await handOut(await start.tokenFile('alpha'), blueDir, 'alpha')
    const alphaLog = path.join(blueDir, 'alpha.log')
    const blue = execa(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        BLUE,
        '--dir',
        dir,
        '--token-file',
        alphaToken,
        '--log',
        alphaLog,
        '--false-finding',
        '--manual',
        CLI,
      ],
      { reject: false, env: { PATH: process.env.PATH ?? '' }, timeout: 600_000 },
    )

    // Mid-exercise, as the blue user: the key is out of reach and no readable file names an attack.
    while (
      !existsSync(path.join(dir, 'exercise.json')) ||
      !readFileSync(path.join(dir, 'exercise.json'), 'utf8').includes('"running"')
    ) {
      expect(start.child.exitCode, start.stderr()).toBeNull()
      await sleep(250)
    }
    log(`running after ${Date.now() - t0} ms`)
    await sleep(20_000)
    const exerciseId = JSON.parse(readFileSync(path.join(dir, 'exercise.json'), 'utf8')).id as string
    const keyFile = path.join(tmp, 'instructor', exerciseId, 'key')
    expect(existsSync(keyFile)).toBe(true)
    const keyRead = asNobody(['cat', keyFile])
    expect(keyRead.status).not.toBe(0)
    expect(keyRead.stderr).toMatch(/Permission denied/)
    const stepIds = (await loadScenarios(['scenarios']))
      .filter((s) => ONLY.split(',').some((o) => s.metadata.id.endsWith(o)))
      .flatMap((s) => s.steps.map((st) => st.id))
    const readable = readableFiles(dir)
    expect(readable.some((f) => f.endsWith('plan.sealed'))).toBe(true)
    for (const f of readable.filter((f) => !f.endsWith('.tmp'))) {
      const r = asNobody(['cat', f])
      expect(r.status, f).toBe(0) // the blue side may read every file here …
      for (const id of stepIds) expect(r.stdout.includes(id), `${f} names ${id}`).toBe(false) // … none tells the plan
    }
    const status = asNobody([process.execPath, CLI, 'exercise', 'status', '--dir', dir], { NO_COLOR: '1' })
    expect(status.status, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/running — \d+ s of 75 s/)
    for (const id of stepIds) expect(status.stdout).not.toContain(id)

    const started = await start.child
    log(`exercise start finished in ${Date.now() - t0} ms (exit ${started.exitCode})`)
    expect(started.exitCode, start.stderr()).toBe(0)
    await blue
    const posted = blueLog(alphaLog)
    log(`blue team alpha: ${JSON.stringify(posted)}`)

    // Still sealed for the blue user after the end: the debrief needs the instructor's key.
    const nobodyDebrief = asNobody([process.execPath, CLI, 'exercise', 'debrief', '--dir', dir], {
      PURPLEKIND_INSTRUCTOR_DIR: env.PURPLEKIND_INSTRUCTOR_DIR,
      NO_COLOR: '1',
    })
    expect(nobodyDebrief.status).toBe(2)
    expect(nobodyDebrief.stderr).toMatch(/cannot read the key/)

    const debrief = await execa('node', [CLI, '--json', 'exercise', 'debrief', '--dir', dir], {
      env,
      reject: false,
    })
    expect(debrief.exitCode, debrief.stderr).toBe(0)
    const report = JSON.parse(readFileSync(path.join(dir, 'debrief', 'report.json'), 'utf8')) as DebriefReport
    const md = readFileSync(path.join(dir, 'debrief', 'report.md'), 'utf8')

    // Same seed, same plan: the live run's revealed plan is the pure function's output.
    const scenarios = (await loadScenarios(['scenarios'])).filter((s) =>
      ONLY.split(',').some((o) => s.metadata.id.endsWith(`.${o}`)),
    )
    const again = buildPlan({
      seed: 7,
      durationMs: 75_000,
      difficulty: 'normal',
      scenarios,
      only: ONLY.split(','),
      capabilities: { realPods: false, networkPolicy: false, docker: false },
      attacks: 5,
    })
    expect(report.plan.map((p) => [p.id, p.atMs, p.kind, p.step])).toEqual(
      again.actions.map((a) => [a.id, a.atMs, a.kind, a.step.id]),
    )
    expect(report.actions.attacks).toBeGreaterThanOrEqual(3)
    expect(report.actions.background).toBeGreaterThan(5)

    // Exactly the recall and precision the revealed plan implies for the blue team's rules.
    const attacks = report.attacks
    const expected = attacks.filter(blueCatches).map((a) => a.id)
    const alpha = report.teams.find((t) => t.team === 'alpha')!
    const foundByAlpha = attacks
      .filter((a) => a.teams.find((t) => t.team === 'alpha')?.found)
      .map((a) => a.id)
    log(`attacks: ${attacks.map((a) => `${a.id} ${a.step} (${a.identity}, exit ${a.exitCode})`).join('; ')}`)
    log(
      `alpha: score ${alpha.score}, recall ${alpha.recall}, precision ${alpha.precision}, found ${foundByAlpha}`,
    )
    expect(expected.length).toBeGreaterThan(0)
    expect(expected.length).toBeLessThan(attacks.length) // some attacks are missed on purpose
    expect(foundByAlpha).toEqual(expected)
    expect(alpha.recall).toBe(expected.length / attacks.length)
    expect(posted.filter((p) => p.kind === 'false')).toHaveLength(1)
    expect(alpha.findings).toBe(expected.length + 1)
    expect(alpha.precision).toBe(expected.length / (expected.length + 1))
    expect(alpha.unmatched).toHaveLength(1)
    expect(report.attacks.some((a) => a.teams.find((t) => t.team === 'alpha')?.by?.via === 'manual')).toBe(
      attacks.some((a) => a.command.includes('serviceaccount/token')),
    )
    const beta = report.teams.find((t) => t.team === 'beta')!
    expect(beta).toMatchObject({ recall: 0, findings: 0, score: 0 })

    // The debrief: timeline SVG embedded, every missed attack named per team.
    expect(md).toContain('](timeline.svg)')
    const svg = path.join(dir, 'debrief', 'timeline.svg')
    expect(statSync(svg).size).toBeGreaterThan(1000)
    expect(
      spawnSync('python3', ['-c', `import xml.dom.minidom; xml.dom.minidom.parse(${JSON.stringify(svg)})`])
        .status,
    ).toBe(0)
    for (const a of attacks) {
      expect(md).toMatch(
        new RegExp(`\\*\\*beta\\*\\* missed ${attacks.length} of ${attacks.length}:[\\s\\S]*- ${a.id} at`),
      )
      if (!expected.includes(a.id))
        expect(md).toMatch(new RegExp(`\\*\\*alpha\\*\\* missed [\\s\\S]*- ${a.id} at`))
    }
    expect(readFileSync(path.join(dir, 'debrief', 'vectr.csv'), 'utf8').split('\r\n').length).toBe(
      attacks.length * 2 + 2,
    )

    // Telemetry reached the blue side: files, HEC and JSON lines carry the same events.
    const fileLines = readFileSync(path.join(dir, 'telemetry', 'k8s-audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
    const hecEvents = got.hec.flatMap((r) => r.body.split('\n').map((l) => JSON.parse(l)))
    const jsonl = got.jsonl.flatMap((b) => b.trim().split('\n'))
    expect(got.hec.every((r) => r.auth === 'Splunk hec-token-live')).toBe(true)
    expect(hecEvents.filter((e) => e.sourcetype === 'kubernetes:api')).toHaveLength(fileLines.length)
    expect(jsonl.length).toBe(hecEvents.length)
    log(
      `telemetry: ${fileLines.length} audit events in the file, ${hecEvents.length} via HEC, ${jsonl.length} JSON lines`,
    )
    siem.close()

    // Record, then replay to a class with no lab: student2 runs the same script (alerts only, no false one).
    const rec = path.join(tmp, 'recording')
    const recorded = await execa('node', [CLI, 'exercise', 'record', '--dir', dir, '--out', rec], {
      env,
      reject: false,
    })
    expect(recorded.exitCode, recorded.stderr).toBe(0)
    const classDir = path.join(tmp, 'class')
    const t1 = Date.now()
    const replay = cli(
      ['exercise', 'replay', rec, '--dir', classDir, '--team', 'student2', '--speed', '15', '--grace', '4s'],
      env,
    )
    const studentToken = await handOut(await replay.tokenFile('student2'), blueDir, 'student2')
    const studentLog = path.join(blueDir, 'student2.log')
    const student = execa(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        BLUE,
        '--dir',
        classDir,
        '--token-file',
        studentToken,
        '--log',
        studentLog,
      ],
      { reject: false, env: { PATH: process.env.PATH ?? '' }, timeout: 600_000 },
    )
    const replayed = await replay.child
    expect(replayed.exitCode, replay.stderr()).toBe(0)
    await student
    log(`replay finished in ${Date.now() - t1} ms; student2 posted ${JSON.stringify(blueLog(studentLog))}`)
    const classDebrief = await execa('node', [CLI, 'exercise', 'debrief', '--dir', classDir], {
      env,
      reject: false,
    })
    expect(classDebrief.exitCode, classDebrief.stderr).toBe(0)
    const classReport = JSON.parse(
      readFileSync(path.join(classDir, 'debrief', 'report.json'), 'utf8'),
    ) as DebriefReport
    expect(classReport.replayOf).toBe(exerciseId)
    expect(classReport.teams.map((t) => t.team)).toEqual(['student2'])
    const s2 = classReport.teams[0]!
    expect(s2.recall).toBe(expected.length / attacks.length)
    expect(s2.precision).toBe(1)
    expect(classReport.attacks.filter((a) => a.teams[0]?.found).map((a) => a.id)).toEqual(expected)
  })
})
