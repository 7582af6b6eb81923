import { readFile } from 'node:fs/promises'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'

// What a new user meets first: --version, JSON errors with --json, and the README's no-lab demo, whose
// files the npm package must ship. Spawns the built CLI (npm test builds first).
const cli = (...args: string[]) =>
  execa('node', ['dist/cli/main.js', ...args], { reject: false, env: { NO_COLOR: '1' } })

describe('first contact', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8'))
    const r = await cli('--version')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toBe(pkg.version)
  })

  it('with --json every error is one JSON object on stdout, usage errors included (exit 2)', async () => {
    for (const args of [
      ['frobnicate'],
      ['validate', 'no/such/file.yaml'],
      ['validate', 'test/fixtures/scenarios/invalid-many.yaml'],
      ['run', '--env', 'replay'],
      ['diff', 'package.json', 'package.json'],
    ]) {
      const r = await cli('--json', ...args)
      expect(r.exitCode, args.join(' ')).toBe(2)
      const err = JSON.parse(r.stdout).error
      expect(err.code, args.join(' ')).toMatch(/^PURPLE_[A-Z_]+$/)
      expect(err.message).toBeTruthy()
      expect(r.stderr, args.join(' ')).not.toMatch(/Usage:/)
    }
    const invalid = JSON.parse(
      (await cli('--json', 'validate', 'test/fixtures/scenarios/invalid-many.yaml')).stdout,
    )
    expect(invalid.error.issues[0]).toMatchObject({ file: 'test/fixtures/scenarios/invalid-many.yaml' })
  }, 120_000)

  it('the README opens with the no-lab demo, and the package ships what it needs', async () => {
    const readme = await readFile('README.md', 'utf8')
    const demo = /```sh\n(npx purplekind replay [^\n]+)\n```/.exec(readme.slice(0, 2500))?.[1]
    expect(demo).toBeDefined()
    const [, , , recording, scenarios] = demo!.split(' ')
    const files: string[] = JSON.parse(await readFile('package.json', 'utf8')).files
    for (const needed of [recording!, scenarios!, 'detections', 'dist'])
      expect(
        files.some((f) => needed === f || needed.startsWith(`${f}/`)),
        needed,
      ).toBe(true)
    const r = await cli(
      'replay',
      recording!,
      scenarios!,
      '--reports',
      `${process.env.TMPDIR ?? '/tmp'}/purplekind-demo`,
    )
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/✔ all expectations met: 24 steps/)
  }, 60_000)
})
