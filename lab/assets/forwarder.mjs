// purplekind lab forwarder: joins TCP endpoints in one network namespace to unix sockets reachable from
// another, so the exec sandbox namespace needs no route to the host. Plain ESM (no build step), run as
//   node forwarder.mjs <listen>=<connect> ...
// where an endpoint is tcp:HOST:PORT or unix:PATH. Unix listeners are created mode 0600 (root only).
import { chmodSync, rmSync } from 'node:fs'
import net from 'node:net'

function parseEndpoint(text) {
  if (text.startsWith('unix:')) return { path: text.slice(5) }
  const m = /^tcp:(.+):(\d+)$/.exec(text)
  if (!m) throw new Error(`bad endpoint ${text} (want tcp:HOST:PORT or unix:PATH)`)
  return { host: m[1], port: Number(m[2]) }
}

function pipe(client, target) {
  const upstream = net.connect(target)
  client.pipe(upstream)
  upstream.pipe(client)
  const close = () => {
    client.destroy()
    upstream.destroy()
  }
  client.on('error', close)
  upstream.on('error', close)
  client.on('close', close)
  upstream.on('close', close)
}

function listen(spec) {
  const [from, to] = spec.split('=')
  if (!from || !to) throw new Error(`bad rule ${spec} (want LISTEN=CONNECT)`)
  const listenAt = parseEndpoint(from)
  const target = parseEndpoint(to)
  const server = net.createServer((client) => pipe(client, target))
  if (listenAt.path) rmSync(listenAt.path, { force: true })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(listenAt, () => {
      if (listenAt.path) chmodSync(listenAt.path, 0o600)
      resolve(server)
    })
  })
}

const rules = process.argv.slice(2)
try {
  await Promise.all(rules.map(listen))
  console.log(`forwarder ready: ${rules.join(' ')}`)
} catch (err) {
  console.error(`forwarder failed: ${err.message}`)
  process.exit(1)
}
process.on('SIGTERM', () => process.exit(0))
