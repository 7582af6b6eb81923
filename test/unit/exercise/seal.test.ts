import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, statSync } from 'node:fs'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  createExerciseKey,
  exerciseKeyDir,
  readExerciseKey,
  readSealed,
  seal,
  unseal,
  writeSealed,
  writeTeamTokens,
} from '../../../src/exercise/seal.js'

const key = Buffer.alloc(32, 7)

describe('seal', () => {
  it('round-trips and hides the content', () => {
    const s = seal({ step: 'list-all-namespaces' }, key, 'plan:x')
    expect(JSON.stringify(s)).not.toContain('list-all-namespaces')
    expect(unseal(s, key, 'plan:x', 'f')).toEqual({ step: 'list-all-namespaces' })
  })

  it('refuses a wrong key, another label and a changed ciphertext', () => {
    const s = seal({ a: 1 }, key, 'plan:x')
    expect(() => unseal(s, Buffer.alloc(32, 8), 'plan:x', 'f')).toThrow(/wrong key or the file was changed/)
    expect(() => unseal(s, key, 'plan:y', 'f')).toThrow(/sealed for "plan:x"/)
    const data = Buffer.from(s.data, 'base64')
    data[0] = (data[0] ?? 0) ^ 1
    expect(() => unseal({ ...s, data: data.toString('base64') }, key, 'plan:x', 'f')).toThrow(/changed/)
    // A relabelled file does not open either: the label is authenticated.
    expect(() => unseal({ ...s, label: 'plan:y' }, key, 'plan:y', 'f')).toThrow(/changed/)
  })
})

describe('instructor keys', () => {
  const env = { ...process.env, PURPLEKIND_INSTRUCTOR_DIR: mkdtempSync(path.join(tmpdir(), 'pk-instr-')) }

  it('keeps the key 0600 in a 0700 directory and never reuses an id', async () => {
    const k = await createExerciseKey('ex-a', env)
    expect(await readExerciseKey('ex-a', undefined, env)).toEqual(k)
    const dir = exerciseKeyDir('ex-a', env)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(path.join(dir, 'key')).mode & 0o777).toBe(0o600)
    expect(statSync(env.PURPLEKIND_INSTRUCTOR_DIR as string).mode & 0o777).toBe(0o700)
    await expect(createExerciseKey('ex-a', env)).rejects.toThrow(/never reused/)
    const tokens = await writeTeamTokens('ex-a', { red: 'tok-red-aaaaaaaaaaaa' }, 'teams', env)
    expect(statSync(tokens.red as string).mode & 0o777).toBe(0o600)
  })

  it('tightens an instructor directory others could enter', async () => {
    const root = env.PURPLEKIND_INSTRUCTOR_DIR as string
    await chmod(root, 0o755)
    await createExerciseKey('ex-b', env)
    expect(statSync(root).mode & 0o777).toBe(0o700)
  })

  it('a key that is not 64 hex digits is refused with a coded error', async () => {
    const f = path.join(env.PURPLEKIND_INSTRUCTOR_DIR as string, 'bad.key')
    await writeFile(f, 'abc\n')
    await expect(readExerciseKey('ex-a', f, env)).rejects.toThrow(/not an exercise key/)
  })

  // The blue side is another user: it can read the sealed plan file but neither the key nor the plan.
  it('another user cannot read the key, and the sealed file does not give the plan away', async (ctx) => {
    if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--help']).status !== 0) {
      console.log('skipped: needs root and setpriv to act as another user (uid 65534)')
      ctx.skip()
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'pk-ex-'))
    await chmod(dir, 0o755)
    const k = await createExerciseKey('ex-c', env)
    const planFile = path.join(dir, 'plan.sealed')
    await writeSealed(planFile, { attack: 'read-token' }, k, 'plan:ex-c')
    const asNobody = (cmd: string[]) =>
      spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd], { encoding: 'utf8' })
    const keyRead = asNobody(['cat', path.join(exerciseKeyDir('ex-c', env), 'key')])
    expect(keyRead.status).not.toBe(0)
    expect(keyRead.stderr).toMatch(/Permission denied/)
    const planRead = asNobody(['cat', planFile])
    expect(planRead.status).toBe(0)
    expect(planRead.stdout).not.toContain('read-token')
    expect(await readSealed(planFile, k, 'plan:ex-c')).toEqual({ attack: 'read-token' })
    expect(execFileSync('id', ['-u']).toString().trim()).toBe('0')
    expect((await readFile(planFile, 'utf8')).length).toBeGreaterThan(20)
  })
})
