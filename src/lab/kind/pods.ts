// What the run's pods need on a kind lab, where they are real containers of purplekind/workload:1. Seen
// from inside a pod, the cloud decoys are where they are for the local lab's exec sandbox: moto and the
// Azure decoy on 127.0.0.1:<their ports> (a small relay in the pod forwards those to the gateway relays,
// which forward to the decoys on the host's loopback), 169.254.169.254 is the IMDS decoy (node guard),
// and `az` starts logged in (its profile comes from a read-only hostPath of per-run files). No Kubernetes
// object is added for this, so the audit trail holds only what the scenario itself creates.
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AWS_REGION } from '../decoys/aws.js'
import { AZ_QUIET_ENV } from '../decoys/azure.js'
import type { PodTemplate } from '../provider.js'
import { NODE_PATHS } from './config.js'

export const WORKLOAD_IMAGE = 'purplekind/workload:1'
const FILES_IN_POD = '/etc/purplekind/decoys'

/** Listens on 127.0.0.1:<port> for each `port=host:port` argument and pipes connections there. */
const RELAY_PY = `import socket, sys, threading
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
def serve(port, host, to):
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port)); srv.listen(64)
    while True:
        c, _ = srv.accept()
        try: u = socket.create_connection((host, to), timeout=10)
        except OSError: c.close(); continue
        u.settimeout(None)
        for x, y in ((c, u), (u, c)): threading.Thread(target=pipe, args=(x, y), daemon=True).start()
for spec in sys.argv[1:]:
    port, _, dest = spec.partition("=")
    host, _, to = dest.rpartition(":")
    threading.Thread(target=serve, args=(int(port), host, int(to)), daemon=True).start()
threading.Event().wait()
`

export interface RunPodFiles {
  /** Host directory (under the lab's pod-files mount) for this run. */
  dir: string
  template: PodTemplate
  remove(): void
}

/**
 * Writes the run's pod files (relay, decoy CA, the logged-in az profile) and returns the template of
 * the run's pods. `gateway` and `relays` are where pods reach the host's relays to the decoys.
 */
export function writeRunPodFiles(options: {
  podFilesDir: string
  runId: string
  gateway: string
  relays: { aws: number; azure: number }
  aws?: { port: number }
  azure?: { configDir: string; caBundle: string; port: number }
}): RunPodFiles {
  const name = `run-${options.runId.replace(/[^\w.-]/g, '_')}`
  const dir = join(options.podFilesDir, name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  writeFileSync(join(dir, 'relay.py'), RELAY_PY)
  const forwards: string[] = []
  if (options.aws) forwards.push(`${options.aws.port}=${options.gateway}:${options.relays.aws}`)
  if (options.azure) {
    forwards.push(`${options.azure.port}=${options.gateway}:${options.relays.azure}`)
    // Only the top-level files of the profile (the decoy's own TLS material stays on the host).
    const azure = join(dir, 'azure')
    mkdirSync(azure, { mode: 0o700 })
    for (const entry of readdirSync(options.azure.configDir)) {
      const from = join(options.azure.configDir, entry)
      if (statSync(from).isFile()) cpSync(from, join(azure, entry))
    }
    cpSync(options.azure.caBundle, join(dir, 'ca.pem'))
  }
  const inPod = `${FILES_IN_POD}`
  const script = [
    `python3 ${inPod}/relay.py ${forwards.join(' ')} &`,
    options.azure ? `mkdir -p /root/.azure && cp ${inPod}/azure/* /root/.azure/` : '',
    'exec sleep infinity',
  ]
    .filter(Boolean)
    .join('\n')
  const env: Record<string, string> = {
    HOME: '/root',
    LANG: 'C.UTF-8',
    AWS_DEFAULT_REGION: AWS_REGION,
    AWS_REGION,
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
    AWS_METADATA_SERVICE_TIMEOUT: '5',
    AWS_METADATA_SERVICE_NUM_ATTEMPTS: '2',
    ...(options.aws ? { AWS_ENDPOINT_URL: `http://127.0.0.1:${options.aws.port}` } : {}),
    ...(options.azure
      ? { AZURE_CONFIG_DIR: '/root/.azure', REQUESTS_CA_BUNDLE: `${inPod}/ca.pem`, ...AZ_QUIET_ENV }
      : {}),
  }
  return {
    dir,
    template: {
      image: WORKLOAD_IMAGE,
      command: ['/bin/sh', '-c', script],
      env,
      volumes: [
        {
          name: 'purplekind-decoys',
          hostPath: { path: `${NODE_PATHS.podFiles}/${name}`, type: 'Directory' },
        },
      ],
      volumeMounts: [{ name: 'purplekind-decoys', mountPath: inPod, readOnly: true }],
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
