// Issue #8 item 5: `lab down` leaves no key or token of the local lab behind (the audit webhook's
// kubeconfig embeds its bearer token), and keeps the logs.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { labPaths } from '../../../../src/lab/local/config.js'
import { labDir, labDown, secretFiles } from '../../../../src/lab/local/index.js'

const isRoot = process.getuid?.() === 0
if (!isRoot) console.log('skipping lab down test: the local lab needs root')
const home = mkdtempSync(join(tmpdir(), 'pk-lab-down-'))
afterAll(() => rmSync(home, { recursive: true, force: true }))

describe.skipIf(!isRoot)('lab down', () => {
  it('removes every key, kubeconfig and token file, including the webhook kubeconfig; keeps logs', async () => {
    const saved = process.env.PURPLEKIND_HOME
    process.env.PURPLEKIND_HOME = home
    try {
      const name = `down-${process.pid}`
      const p = labPaths(labDir(name))
      mkdirSync(p.pki, { recursive: true })
      mkdirSync(p.logs, { recursive: true })
      writeFileSync(p.key('ca'), 'CA KEY')
      writeFileSync(p.webhookToken, 'tok')
      writeFileSync(p.webhookConfig, 'users: [{user: {token: tok}}]')
      writeFileSync(p.kubeconfig, 'k')
      writeFileSync(p.componentKubeconfig('kcm'), 'k')
      writeFileSync(p.componentKubeconfig('kwok'), 'k')
      writeFileSync(p.log('etcd'), 'log')
      expect(secretFiles(p)).toContain(p.webhookConfig)
      await labDown({ name, log: () => {} })
      for (const f of secretFiles(p)) expect(existsSync(f), f).toBe(false)
      expect(existsSync(p.log('etcd'))).toBe(true)
    } finally {
      if (saved === undefined) delete process.env.PURPLEKIND_HOME
      else process.env.PURPLEKIND_HOME = saved
    }
  })
})
