// Binary resolution: explicit directories must be complete, the cache is keyed by version, and a
// missing set without permission to build is a coded error that says how to fix it.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PurpleError } from '../../../../src/errors.js'
import { cacheBinDir, cacheRoot, REQUIRED_BINARIES, resolveAssets } from '../../../../src/lab/assets.js'

let root: string
const log = () => {}

async function fakeBinDir(dir: string, binaries: readonly string[], stages = true): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const b of binaries) {
    await writeFile(join(dir, b), '#!/bin/sh\n')
    await chmod(join(dir, b), 0o755)
  }
  if (stages) {
    await mkdir(join(dir, '..', 'kwok-stages', 'pod', 'fast'), { recursive: true })
    await writeFile(join(dir, '..', 'kwok-stages', 'pod', 'fast', 'pod-ready.yaml'), 'kind: Stage\n')
  }
}

async function rejection(p: Promise<unknown>): Promise<PurpleError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(PurpleError)
  return err as PurpleError
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pk-assets-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('resolveAssets', () => {
  it('uses PURPLEKIND_ASSETS when it holds every binary and the kwok stages', async () => {
    const dir = join(root, 'mine', 'bin')
    await fakeBinDir(dir, REQUIRED_BINARIES)
    const a = await resolveAssets({ build: false, log, env: { PURPLEKIND_ASSETS: dir, HOME: root } })
    expect(a).toMatchObject({ binDir: dir, origin: 'env', stagesDir: join(dir, '..', 'kwok-stages') })
    expect(a.versions.kubernetes).toBe('v1.36.3')
  })

  it('names exactly what an incomplete KUBEBUILDER_ASSETS lacks, and how to fix it', async () => {
    const dir = join(root, 'kb', 'bin')
    await fakeBinDir(dir, ['etcd', 'kube-apiserver', 'kubectl'], false)
    const err = await rejection(
      resolveAssets({ build: true, log, env: { KUBEBUILDER_ASSETS: dir, HOME: root } }),
    )
    expect(err.code).toBe('PURPLE_ASSETS_MISSING')
    expect(err.message).toContain(`KUBEBUILDER_ASSETS=${dir}`)
    expect(err.message).toContain('kube-controller-manager, kwok, kwok-stages')
    expect(err.message).not.toContain('etcd')
    expect(err.hint).toContain('purplekind lab build')
  })

  it('finds the version-keyed cache under PURPLEKIND_CACHE, then XDG_CACHE_HOME', async () => {
    expect(cacheRoot({ PURPLEKIND_CACHE: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c')
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' })).toBe('/x/purplekind')
    const env = { PURPLEKIND_CACHE: root, HOME: root }
    expect(cacheBinDir(env)).toBe(join(root, 'k8s-v1.36.3-etcd-v3.6.16-kwok-v0.8.0', 'bin'))
    await fakeBinDir(cacheBinDir(env), REQUIRED_BINARIES)
    expect((await resolveAssets({ build: false, log, env })).origin).toBe('cache')
  })

  it('refuses with PURPLE_ASSETS_MISSING (never builds) when build is false and the cache is empty', async () => {
    const err = await rejection(
      resolveAssets({ build: false, log, env: { PURPLEKIND_CACHE: root, HOME: root } }),
    )
    expect(err.code).toBe('PURPLE_ASSETS_MISSING')
    expect(err.message).toContain('etcd, kube-apiserver, kubectl, kube-controller-manager, kwok')
    expect(err.hint).toContain('purplekind lab build')
  })
})
