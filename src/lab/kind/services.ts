// The host-side services a kind lab needs, reachable from the node containers at the lab network's
// gateway: the audit webhook receiver (HTTPS, lab CA, bearer token) and the IMDS decoy. Ports, PKI and
// token live in the lab directory, so a reused cluster — whose apiserver flags and DNAT rules were fixed
// at creation — finds its services at the same addresses again.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'
import { AUDIT_WEBHOOK_PATH, AuditWebhookReceiver } from '../audit-receiver.js'
import { makeCanaries } from '../decoys/canaries.js'
import { type ImdsCredentials, imdsCredentials, startImds } from '../decoys/imds.js'
import type { Decoys, ServedRequests, TelemetryCollector } from '../provider.js'
import type { DecoyAddress } from './imds.js'

export interface KindLabServices {
  /** What the webhook kubeconfig needs, plus the collector that delivers the received events. */
  audit: { url: string; caPem: string; token: string; collector: TelemetryCollector }
  /** Where the node DNAT sends 169.254.169.254:80. */
  imds: DecoyAddress
  decoys: Decoys
  /** Serve a run's role credentials from the gateway IMDS (pods reach it through the node DNAT). */
  serveImds(creds: ImdsCredentials, role: string): ServedRequests
  /** Gateway ports of the relays pods use to reach the run's AWS and Azure decoys (on loopback). */
  cloudRelays: { aws: number; azure: number }
  /** Point the relays at this run's decoys (loopback ports); undefined closes them. */
  routeCloud(targets: { aws?: number; azure?: number } | undefined): void
  stop(): Promise<void>
}

export interface StartServicesOptions {
  /** Address to bind: the lab docker network's gateway. */
  host: string
  /** Lab directory holding the services' state. */
  stateDir: string
  log: (line: string) => void
}

export type StartKindServices = (options: StartServicesOptions) => Promise<KindLabServices>

interface ServiceState {
  host: string
  webhookPort: number
  imdsPort: number
  awsRelayPort?: number
  azureRelayPort?: number
}

export const startKindServices: StartKindServices = async ({ host, stateDir, log }) => {
  const saved = readState(stateDir, host)
  const pki = await ensurePki(join(stateDir, 'pki'), host)
  const token = ensureToken(join(stateDir, 'audit-token'))
  // The receiver listens on loopback only; a TCP relay on the gateway carries the (still end-to-end TLS)
  // webhook traffic to it. The serving certificate names the gateway IP, which is what the apiserver dials.
  const receiver = new AuditWebhookReceiver({ port: 0, cert: pki.cert, key: pki.key, token })
  await receiver.start(() => {})
  const stops: Array<() => Promise<void>> = [() => receiver.stop()]
  try {
    const relay = await listenRelay(host, saved?.webhookPort ?? 0, () => receiver.port)
    stops.push(() => closeServer(relay.server))
    // The nodes' egress guard (fixed at creation) allows these ports; each run retargets them.
    let cloud: { aws?: number; azure?: number } | undefined
    const awsRelay = await listenRelay(host, saved?.awsRelayPort ?? 0, () => cloud?.aws)
    stops.push(() => closeServer(awsRelay.server))
    const azureRelay = await listenRelay(host, saved?.azureRelayPort ?? 0, () => cloud?.azure)
    stops.push(() => closeServer(azureRelay.server))
    const canaries = makeCanaries(`kind-${relay.port}`)
    const imds = await startImds({
      host,
      port: saved?.imdsPort ?? 0,
      canary: imdsCredentials(canaries),
      role: canaries.awsRoleName,
    })
    stops.push(() => imds.stop())
    const imdsPort = Number(new URL(imds.url).port || 80)
    writeState(stateDir, {
      host,
      webhookPort: relay.port,
      imdsPort,
      awsRelayPort: awsRelay.port,
      azureRelayPort: azureRelay.port,
    })
    log(`kind: audit webhook https://${host}:${relay.port}${AUDIT_WEBHOOK_PATH}, IMDS decoy ${imds.url}`)
    return {
      audit: {
        url: `https://${host}:${relay.port}${AUDIT_WEBHOOK_PATH}`,
        caPem: pki.caPem,
        token,
        collector: subscription(receiver),
      },
      imds: { host, port: imdsPort },
      decoys: { imds: { url: 'http://169.254.169.254', hostUrl: imds.url, role: imds.role } },
      serveImds: (creds, role) => {
        imds.serve(creds, role)
        // The IMDS outlives runs: a run's records are the ones after it took over.
        const from = imds.events().length
        return { events: () => imds.events().slice(from) }
      },
      cloudRelays: { aws: awsRelay.port, azure: azureRelay.port },
      routeCloud: (targets) => {
        cloud = targets
      },
      stop: () => stopAll(stops),
    }
  } catch (error) {
    await stopAll(stops)
    throw error
  }
}

/** The lab owns the receiver; the harness's collector is a subscription to it. */
function subscription(receiver: AuditWebhookReceiver): TelemetryCollector {
  let unsubscribe: (() => void) | undefined
  return {
    source: 'k8s-audit',
    async start(sink) {
      unsubscribe ??= receiver.subscribe(sink)
    },
    async stop() {
      unsubscribe?.()
      unsubscribe = undefined
    },
  }
}

async function stopAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stops.reverse()) await stop().catch(() => {})
}

function readState(dir: string, host: string): ServiceState | undefined {
  const file = join(dir, 'services.json')
  if (!existsSync(file)) return undefined
  const state = JSON.parse(readFileSync(file, 'utf8')) as ServiceState
  // A recreated network may have another gateway; then the old ports mean nothing.
  return state.host === host ? state : undefined
}

function writeState(dir: string, state: ServiceState): void {
  writeFileSync(join(dir, 'services.json'), `${JSON.stringify(state, null, 2)}\n`)
}

function ensureToken(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const token = randomBytes(32).toString('hex')
  writeFileSync(file, `${token}\n`, { mode: 0o600 })
  return token
}

/** A TCP relay from host:port to a loopback port chosen per connection (none: the client is dropped). */
async function listenRelay(
  host: string,
  port: number,
  targetPort: () => number | undefined,
): Promise<{ server: Server; port: number }> {
  const open = new Set<Socket>()
  const server = createServer((client) => {
    const target = targetPort()
    if (!target) {
      client.destroy()
      return
    }
    const upstream = connect({ host: '127.0.0.1', port: target })
    client.pipe(upstream).pipe(client)
    const close = () => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    open.add(client).add(upstream)
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
  })
  // The apiserver keeps its webhook connection alive: closing must cut open connections too.
  server.on('close', () => {
    for (const s of open) s.destroy()
  })
  const close = server.close.bind(server)
  server.close = (cb?: (err?: Error) => void) => {
    for (const s of open) s.destroy()
    return close(cb)
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new PurpleError('PURPLE_LAB_FAILED', `relay cannot listen on ${host}:${port}: ${err.message}`)),
    )
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  return { server, port: typeof address === 'object' && address ? address.port : port }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

interface Pki {
  caPem: string
  cert: string
  key: string
}

/** A lab CA and a serving certificate for `ip` (openssl, as the rest of the lab's PKI). */
export async function ensurePki(dir: string, ip: string): Promise<Pki> {
  const path = (name: string) => join(dir, name)
  const marker = path('server.ip')
  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== ip) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
    await openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      path('ca.key'),
      '-out',
      path('ca.crt'),
      '-days',
      '30',
      '-subj',
      '/CN=purplekind-kind-ca',
    ])
    await openssl([
      'req',
      ...ec,
      '-keyout',
      path('server.key'),
      '-out',
      path('server.csr'),
      '-subj',
      '/CN=purplekind-audit',
    ])
    writeFileSync(path('server.ext'), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`)
    await openssl([
      'x509',
      '-req',
      '-in',
      path('server.csr'),
      '-CA',
      path('ca.crt'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path('server.crt'),
      '-days',
      '30',
      '-extfile',
      path('server.ext'),
    ])
    writeFileSync(marker, `${ip}\n`)
  }
  return {
    caPem: readFileSync(path('ca.crt'), 'utf8'),
    cert: readFileSync(path('server.crt'), 'utf8'),
    key: readFileSync(path('server.key'), 'utf8'),
  }
}

async function openssl(args: string[]): Promise<void> {
  const result = await execa('openssl', args, { reject: false })
  if (result.exitCode !== 0) {
    throw new PurpleError('PURPLE_LAB_FAILED', `openssl ${args[0]} failed: ${result.stderr.trim()}`, {
      hint: 'the kind lab needs the openssl CLI (apt-get install openssl)',
    })
  }
}
