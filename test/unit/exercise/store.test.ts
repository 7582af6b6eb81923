import { mkdtempSync } from 'node:fs'
import { chmod, mkdir, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ownDir } from '../../../src/exercise/store.js'

describe('ownDir', () => {
  it('creates a directory, and refuses one others can write or a symlink', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'pk-own-'))
    expect(await ownDir(path.join(tmp, 'a', 'b'))).toBe(path.join(tmp, 'a', 'b'))
    const open = path.join(tmp, 'open')
    await mkdir(open)
    await chmod(open, 0o777)
    await expect(ownDir(open)).rejects.toThrow(/writable by no one else/)
    const link = path.join(tmp, 'link')
    await symlink(path.join(tmp, 'a'), link)
    await expect(ownDir(link)).rejects.toThrow(/must be a directory/)
  })
})
