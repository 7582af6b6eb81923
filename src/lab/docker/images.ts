// Local lab images, built without any registry: a rootfs made of Debian's static busybox (plus the host's
// curl and its shared libraries) is tarred and fed to the engine's import API (what `docker import` does).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type Docker from 'dockerode'
import { PurpleError } from '../../errors.js'
import { MANAGED_LABEL, RUN_LABEL } from '../provider.js'

export const VICTIM_IMAGE = 'purplekind/victim:1'
export const TOOLBOX_IMAGE = 'purplekind/toolbox:1'
/** The benign look-alike: same program as the victim, but it logs no secrets. */
export const QUIET_IMAGE = 'purplekind/quiet:1'
const CONTENT_LABEL = 'purplekind.io/content'
const BUSYBOX = '/bin/busybox'

/**
 * The victim's program. It leaks the credentials it was given (env, at container create time) into its
 * stdout, the way a chatty app prints its config on start, then idles until stopped.
 */
const VICTIM_SCRIPT = `#!/bin/sh
trap 'exit 0' TERM INT
echo "app: starting (pid $$)"
if [ "$PURPLEKIND_MODE" != quiet ]; then
  echo "app: loaded config AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  echo "app: connecting to postgres://app:$DB_PASSWORD@db.internal:5432/orders"
  [ -n "$AZURE_CLIENT_SECRET" ] && echo "app: azure sp login client_secret=$AZURE_CLIENT_SECRET"
else
  echo "app: loaded config (credentials from secret store)"
fi
echo "app: ready"
while :; do sleep 3600 & wait $!; done
`

/** Applets the toolbox's shell steps use; each is a symlink to busybox. */
const APPLETS = [
  'sh',
  'ls',
  'cat',
  'echo',
  'env',
  'id',
  'sleep',
  'wget',
  'grep',
  'head',
  'tail',
  'ps',
  'hostname',
  'printf',
  'base64',
  'tr',
  'cut',
  'sed',
  'mkdir',
  'rm',
  'nc',
  'true',
  'false',
  'test',
  '[',
  'uname',
  'wc',
]

export interface ImageSpec {
  readonly tag: string
  readonly cmd: readonly string[]
  readonly env: readonly string[]
  readonly withCurl: boolean
}

export const IMAGES: readonly ImageSpec[] = [
  { tag: VICTIM_IMAGE, cmd: ['/bin/victim'], env: ['PURPLEKIND_MODE=leaky'], withCurl: false },
  { tag: QUIET_IMAGE, cmd: ['/bin/victim'], env: ['PURPLEKIND_MODE=quiet'], withCurl: false },
  {
    tag: TOOLBOX_IMAGE,
    cmd: ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'],
    env: [],
    withCurl: true,
  },
]

export interface EnsureImagesResult {
  /** Tag → what happened to it. */
  readonly images: Record<string, 'present' | 'built'>
  /** Whether the toolbox got a real curl (else its steps must use busybox wget). */
  readonly toolboxCurl: boolean
}

/** Builds the lab images unless an identical build (same content hash label) is already present. */
export async function ensureImages(
  docker: Docker,
  options: { log: (line: string) => void },
): Promise<EnsureImagesResult> {
  if (!existsSync(BUSYBOX)) {
    throw new PurpleError('PURPLE_ASSETS_MISSING', `${BUSYBOX} not found`, {
      hint: 'apt-get install busybox-static',
    })
  }
  const curl = curlClosure()
  const images: Record<string, 'present' | 'built'> = {}
  for (const spec of IMAGES) {
    const files = spec.withCurl && curl ? curl : []
    const hash = contentHash(spec, files)
    if ((await imageContent(docker, spec.tag)) === hash) {
      images[spec.tag] = 'present'
      continue
    }
    options.log(
      `docker: building ${spec.tag} from busybox-static${files.length ? ' + host curl' : ''} (no registry)`,
    )
    await importRootfs(docker, spec, files, hash)
    images[spec.tag] = 'built'
  }
  return { images, toolboxCurl: curl !== undefined }
}

/** The host's curl binary plus every shared object `ldd` says it loads, or undefined if unavailable. */
export function curlClosure(): string[] | undefined {
  if (!existsSync('/usr/bin/curl')) return undefined
  try {
    const out = execFileSync('ldd', ['/usr/bin/curl'], { encoding: 'utf8' })
    const libs = [...out.matchAll(/(\/\S+\.so[^\s]*)/g)].map((m) => m[1] as string)
    return ['/usr/bin/curl', ...new Set(libs)]
  } catch {
    return undefined
  }
}

function contentHash(spec: ImageSpec, files: readonly string[]): string {
  const h = createHash('sha256')
  h.update(JSON.stringify({ spec, files, script: VICTIM_SCRIPT, applets: APPLETS }))
  return h.digest('hex').slice(0, 16)
}

async function imageContent(docker: Docker, tag: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(tag).inspect()
    return info.Config?.Labels?.[CONTENT_LABEL]
  } catch {
    return undefined
  }
}

async function importRootfs(
  docker: Docker,
  spec: ImageSpec,
  files: readonly string[],
  hash: string,
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'purplekind-rootfs-'))
  try {
    const root = join(work, 'rootfs')
    buildRootfs(root, files)
    const tarFile = join(work, 'rootfs.tar')
    execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tarFile, '.'])
    const changes = [
      `CMD ${JSON.stringify(spec.cmd)}`,
      'ENV PATH=/bin:/usr/bin',
      ...spec.env.map((e) => `ENV ${e}`),
      `LABEL ${MANAGED_LABEL}=true`,
      `LABEL ${CONTENT_LABEL}=${hash}`,
    ]
    const [repo, tag] = spec.tag.split(':') as [string, string]
    const stream = await docker.importImage(tarFile, { repo, tag, changes })
    const output = await drain(stream)
    const error = output.match(/"error(?:Detail)?":\s*"?([^"}]*)/)
    if (error) throw new PurpleError('PURPLE_LAB_FAILED', `docker import of ${spec.tag} failed: ${error[1]}`)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

function buildRootfs(root: string, files: readonly string[]): void {
  for (const d of ['bin', 'usr/bin', 'tmp', 'etc', 'proc', 'sys', 'dev', 'root'])
    mkdirSync(join(root, d), { recursive: true })
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'))
  chmodSync(join(root, 'bin/busybox'), 0o755)
  for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet))
  writeFileSync(join(root, 'bin/victim'), VICTIM_SCRIPT, { mode: 0o755 })
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/tmp:/bin/sh\n')
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\n')
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost\n')
  for (const file of files) {
    const dest = join(root, file)
    mkdirSync(dirname(dest), { recursive: true })
    copyFileSync(file, dest)
    chmodSync(dest, 0o755)
  }
}

function drain(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    stream.on('error', reject)
  })
}

export interface LabContainerSpec {
  name: string
  image: string
  env?: Record<string, string>
  labels?: Record<string, string>
  runId: string
  /** Docker network mode; default 'none' so lab containers cannot reach anything but themselves. */
  networkMode?: string
  cmd?: string[]
}

/** Creates and starts a container labelled as managed by purplekind and owned by `runId`. */
export async function createLabContainer(docker: Docker, spec: LabContainerSpec): Promise<Docker.Container> {
  const container = await docker.createContainer({
    name: spec.name,
    Image: spec.image,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Labels: { ...spec.labels, [MANAGED_LABEL]: 'true', [RUN_LABEL]: spec.runId },
    Tty: false,
    HostConfig: { NetworkMode: spec.networkMode ?? 'none', Init: false },
  })
  await container.start()
  return container
}

/** Force-removes every container of one run; returns their names. */
export async function removeRunContainers(docker: Docker, runId: string): Promise<string[]> {
  return removeByLabel(docker, `${RUN_LABEL}=${runId}`)
}

async function removeByLabel(docker: Docker, label: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [label] } })
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true })))
  return list.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, ''))
}
