// How the runner tells a lab fault from a failing action: KubeApi.unready() against real sockets — a port
// nobody listens on (the apiserver was killed) and a listener that never answers (a hung apiserver).
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KubeApi } from '../../../src/kube/api.js'

function kubeconfig(dir: string, port: number): string {
  const file = path.join(dir, `kubeconfig-${port}`)
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: u, user: { token: not-a-secret } }]',
      'contexts: [{ name: purplekind-t, context: { cluster: c, user: u } }]',
      'current-context: purplekind-t',
    ].join('\n'),
  )
  return file
}

const listen = (s: Server) =>
  new Promise<number>((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)),
  )

describe('KubeApi.unready', () => {
  let dir = ''
  const sockets: Socket[] = []
  const silent = createServer((s) => sockets.push(s)) // accepts, never answers
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'purplekind-unready-'))
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    silent.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('names an apiserver nobody listens for as unreachable (connection refused)', async () => {
    const closed = createServer()
    const port = await listen(closed)
    await new Promise((r) => closed.close(r))
    const api = KubeApi.fromKubeconfig(kubeconfig(dir, port), 'purplekind-t')
    expect(await api.unready(2000)).toMatch(
      new RegExp(`^apiserver https://127.0.0.1:${port}/ unreachable: .*ECONNREFUSED`),
    )
  })

  it('gives up on an apiserver that never answers within the timeout', async () => {
    const port = await listen(silent)
    const api = KubeApi.fromKubeconfig(kubeconfig(dir, port), 'purplekind-t')
    const t0 = Date.now()
    expect(await api.unready(300)).toMatch(/unreachable: API GET \/readyz timed out after 300 ms/)
    expect(Date.now() - t0).toBeLessThan(5000)
  })
})
