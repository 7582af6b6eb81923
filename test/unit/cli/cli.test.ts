import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'

// These spawn the built CLI (npm test builds first), as a user would run it.
const cli = (...args: string[]) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, env: { NO_COLOR: '1' } })

describe('purplekind CLI', () => {
  it('validate: exit 0 and a one-line summary for the shipped scenarios', async () => {
    const r = await cli('validate', 'scenarios')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^✔ \d+ scenario\(s\), \d+ step\(s\) valid$/)
  })

  it('validate: exit 2 with every problem as file:path: message [CODE], and no stack trace', async () => {
    const r = await cli('validate', 'test/fixtures/scenarios/invalid-many.yaml')
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain(
      'test/fixtures/scenarios/invalid-many.yaml:metadata.colour: unknown field "colour" (line 8) [PURPLE_SCENARIO_UNKNOWN_FIELD]',
    )
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('validate: exit 2 for steps that choose their own cluster, engine or endpoint, naming each flag', async () => {
    const file = 'test/fixtures/scenarios/unsafe-flags.yaml'
    const r = await cli('validate', file)
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain(`${file}:steps[0].run[1]: "--kubeconfig" chooses the cluster or credentials`)
    expect(r.stderr).toContain(`${file}:steps[0].run[2]: "--context"`)
    expect(r.stderr).toContain(`${file}:steps[1].run[1]: "-H" chooses the Docker engine`)
    expect(r.stderr).toContain(`${file}:steps[2].run[1]: "--endpoint-url" chooses the AWS endpoint`)
    expect(r.stderr).toContain('[PURPLE_SCENARIO_UNSAFE_FLAG]')
  })

  it('lab status: exit 1 when the lab is not running or unhealthy (scripts gate on it)', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'pk-status-'))
    try {
      const status = (lab: string) =>
        execa('node', ['dist/cli/main.js', 'lab', 'status', '--lab', lab], {
          reject: false,
          env: { NO_COLOR: '1', PURPLEKIND_HOME: home },
        })
      const none = await status('absent')
      expect(none.exitCode).toBe(1)
      expect(none.stdout).toContain('not running')
      // A lab whose state says complete but whose processes are gone.
      const dir = path.join(home, 'labs', 'dead')
      await mkdir(dir, { recursive: true })
      const state = {
        version: 1,
        name: 'dead',
        dir,
        createdAt: new Date().toISOString(),
        netns: 'purplekind-dead',
        workDir: '/nonexistent',
        binDir: '/nonexistent',
        versions: {},
        ports: { etcdClient: 1, etcdPeer: 2, apiserver: 3, kwok: 4, receiver: 5, imds: 6 },
        daemons: [{ name: 'etcd', pid: 4194303, startTime: '1', logFile: '/nonexistent' }],
        complete: true,
      }
      await writeFile(path.join(dir, 'state.json'), JSON.stringify(state))
      const dead = await status('dead')
      expect(dead.exitCode).toBe(1)
      expect(dead.stdout).toContain('unhealthy')
    } finally {
      await rm(home, { recursive: true, force: true })
    }
  })

  it('--verbose adds the stack trace', async () => {
    const r = await cli('--verbose', 'validate', 'no/such/file.yaml')
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('no/such/file.yaml: no such file or directory [PURPLE_INPUT_NOT_FOUND]')
    expect(r.stderr).toMatch(/\n\s+at /)
  })

  it('list --json lists scenarios with their steps', async () => {
    const r = await cli('--json', 'list', 'scenarios')
    const rows = JSON.parse(r.stdout) as { id: string; steps: { kind: string }[] }[]
    expect(rows.map((x) => x.id)).toContain('t1552.007.docker-logs')
    expect(rows.every((x) => x.steps.length > 0)).toBe(true)
  })

  it('evaluate: one alert per line in the documented shape, exit 0', async () => {
    const r = await cli(
      'evaluate',
      '--rules',
      'detections',
      '--events',
      'test/fixtures/telemetry/k8s-audit.jsonl',
    )
    expect(r.exitCode).toBe(0)
    const alerts = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(alerts.length).toBeGreaterThan(0)
    for (const a of alerts) expect(Object.keys(a).slice(0, 4)).toEqual(['rule', 'title', 'file', 'event'])
    expect(alerts).toContainEqual(
      expect.objectContaining({
        rule: 'k8s-secrets-list-by-human',
        file: 'test/fixtures/telemetry/k8s-audit.jsonl',
      }),
    )
  })

  it('evaluate: exit 2 naming file and line for a bad events line', async () => {
    const r = await cli(
      'evaluate',
      '--rules',
      'detections',
      '--events',
      'test/fixtures/engine/events/bad-json.jsonl',
      '--source',
      'k8s-audit',
    )
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/test\/fixtures\/engine\/events\/bad-json\.jsonl:\d+/)
  })

  it('usage errors exit 2', async () => {
    expect((await cli('frobnicate')).exitCode).toBe(2)
    expect((await cli('run', '--env', 'existing')).exitCode).toBe(2)
  })

  it('run --env replay re-asserts a recorded run with no lab (exit 0) and needs --from', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-cli-'))
    const r = await cli(
      '--json',
      'run',
      '--env',
      'replay',
      '--from',
      'test/fixtures/recordings/t1552.007-local',
      'scenarios/t1552.007',
      '--reports',
      dir,
    )
    expect(r.exitCode).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 0, summary: { missed: 0, falsePositives: 0 } })
    expect((await cli('run', '--env', 'replay')).stderr).toContain('--env replay needs --from')
    await rm(dir, { recursive: true, force: true })
  })
})
