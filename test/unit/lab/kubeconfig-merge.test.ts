import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { mergeLabContext, removeLabContext, userKubeconfigPath } from '../../../src/lab/kubeconfig-merge.js'

const dir = await mkdtemp(path.join(tmpdir(), 'purplekind-kcfg-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

const lab = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'lab', cluster: { server: 'https://127.0.0.1:39637', 'certificate-authority-data': 'Q0E=' } },
  ],
  users: [{ name: 'admin', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } }],
  contexts: [{ name: 'purplekind-default', context: { cluster: 'lab', user: 'admin' } }],
  'current-context': 'purplekind-default',
}
const mine = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'prod', cluster: { server: 'https://prod.example:6443' } }],
  users: [{ name: 'me', user: { token: 'x' } }],
  contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'me' } }],
  'current-context': 'prod',
  preferences: { colors: true },
}

describe('kubeconfig merge (lab up/down)', async () => {
  const labFile = path.join(dir, 'lab.kubeconfig')
  await writeFile(labFile, stringify(lab))

  it('merges the lab context into an existing kubeconfig, keeping everything else', async () => {
    const target = path.join(dir, 'config')
    await writeFile(target, stringify(mine))
    await mergeLabContext({ labKubeconfig: labFile, context: 'purplekind-default', target })
    const doc = parse(await readFile(target, 'utf8'))
    expect(doc['current-context']).toBe('prod') // never switched under the user
    expect(doc.preferences).toEqual({ colors: true })
    expect(doc.contexts).toEqual([
      mine.contexts[0],
      { name: 'purplekind-default', context: { cluster: 'purplekind-default', user: 'purplekind-default' } },
    ])
    expect(doc.clusters[1]).toEqual({ ...lab.clusters[0], name: 'purplekind-default' })
    expect(doc.users[1]).toEqual({ ...lab.users[0], name: 'purplekind-default' })
    expect((await stat(target)).mode & 0o777).toBe(0o600)
    // Merging twice replaces, never duplicates.
    await mergeLabContext({ labKubeconfig: labFile, context: 'purplekind-default', target })
    expect(parse(await readFile(target, 'utf8')).contexts).toHaveLength(2)
  })

  it('creates ~/.kube/config when absent and makes the lab current there', async () => {
    const target = path.join(dir, 'new', '.kube', 'config')
    await mergeLabContext({ labKubeconfig: labFile, context: 'purplekind-default', target })
    expect(parse(await readFile(target, 'utf8'))['current-context']).toBe('purplekind-default')
  })

  it('removes exactly the lab entries on lab down, and is a no-op the second time', async () => {
    const target = path.join(dir, 'config')
    expect(await removeLabContext({ name: 'purplekind-default', target })).toBe(true)
    const doc = parse(await readFile(target, 'utf8'))
    expect(doc).toEqual(mine)
    expect(await removeLabContext({ name: 'purplekind-default', target })).toBe(false)
    expect(await removeLabContext({ name: 'x', target: path.join(dir, 'none') })).toBe(false)
  })

  it('refuses a lab kubeconfig without the named context, naming the file', async () => {
    await expect(
      mergeLabContext({ labKubeconfig: labFile, context: 'nope', target: path.join(dir, 'c2') }),
    ).rejects.toThrow(/lab\.kubeconfig: no context "nope"/)
  })

  it('writes to the first $KUBECONFIG file, else ~/.kube/config', () => {
    expect(userKubeconfigPath({ KUBECONFIG: `/a/one${path.delimiter}/b/two` })).toBe('/a/one')
    expect(userKubeconfigPath({})).toMatch(/\.kube\/config$/)
  })
})
