// Like kind: `lab up` merges the lab's context into the user's kubeconfig (`$KUBECONFIG`'s first file, or
// ~/.kube/config), `lab down` takes it out again, so `kubectl --context purplekind-<lab>` works with no
// flags. Only the named cluster, user and context are touched; everything else is kept as it was.
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { parse, stringify } from 'yaml'
import { PurpleError } from '../errors.js'

interface Named {
  name: string
  [k: string]: unknown
}

interface KubeconfigDoc {
  apiVersion?: string
  kind?: string
  clusters?: Named[]
  users?: Named[]
  contexts?: Named[]
  'current-context'?: string
  [k: string]: unknown
}

/** The file kubectl writes to: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function userKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = env.KUBECONFIG?.split(path.delimiter).find((p) => p.trim())
  return first ?? path.join(homedir(), '.kube', 'config')
}

async function readDoc(file: string): Promise<KubeconfigDoc> {
  if (!existsSync(file)) return { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }
  let doc: unknown
  try {
    doc = parse(await readFile(file, 'utf8'))
  } catch (e) {
    throw new PurpleError(
      'PURPLE_INPUT_NOT_FOUND',
      `${file}: not a readable kubeconfig (${(e as Error).message})`,
    )
  }
  if (doc === null || doc === undefined) return { apiVersion: 'v1', kind: 'Config' }
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${file}: not a kubeconfig (expected a mapping)`)
  return doc as KubeconfigDoc
}

// Written beside the target and renamed over it, owner-only: a crash never leaves half a kubeconfig.
async function writeDoc(file: string, doc: KubeconfigDoc): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.purplekind-${process.pid}.tmp`
  await writeFile(tmp, stringify(doc), { mode: 0o600 })
  await chmod(tmp, 0o600)
  await rename(tmp, file)
}

function upsert(list: Named[] | undefined, entry: Named): Named[] {
  return [...(list ?? []).filter((e) => e.name !== entry.name), entry]
}

function pick(list: Named[] | undefined, name: string | undefined, what: string, file: string): Named {
  const found = list?.find((e) => e.name === name)
  if (!found) throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${file}: no ${what} "${name}" to merge`)
  return found
}

/**
 * Copies context `context` of the lab's kubeconfig (with its cluster and user) into `target`, renamed
 * `as` for all three (kind's convention: one name). Replaces an older entry of that name; sets
 * current-context only when the target had none.
 */
export async function mergeLabContext(opts: {
  labKubeconfig: string
  context: string
  as?: string
  target?: string
}): Promise<string> {
  const target = opts.target ?? userKubeconfigPath()
  const name = opts.as ?? opts.context
  const lab = await readDoc(opts.labKubeconfig)
  const ctx = pick(lab.contexts, opts.context, 'context', opts.labKubeconfig)
  const c = (ctx.context ?? {}) as { cluster?: string; user?: string; namespace?: string }
  const cluster = pick(lab.clusters, c.cluster, 'cluster', opts.labKubeconfig)
  const user = pick(lab.users, c.user, 'user', opts.labKubeconfig)
  const doc = await readDoc(target)
  doc.apiVersion ??= 'v1'
  doc.kind ??= 'Config'
  doc.clusters = upsert(doc.clusters, { ...cluster, name })
  doc.users = upsert(doc.users, { ...user, name })
  doc.contexts = upsert(doc.contexts, {
    name,
    context: { cluster: name, user: name, ...(c.namespace ? { namespace: c.namespace } : {}) },
  })
  if (!doc['current-context']) doc['current-context'] = name
  await writeDoc(target, doc)
  return target
}

/** Removes the cluster, user and context named `name` from `target`; a no-op when absent. */
export async function removeLabContext(opts: { name: string; target?: string }): Promise<boolean> {
  const target = opts.target ?? userKubeconfigPath()
  if (!existsSync(target)) return false
  const doc = await readDoc(target)
  const had = (doc.contexts ?? []).some((e) => e.name === opts.name)
  const without = (list: Named[] | undefined) => list?.filter((e) => e.name !== opts.name)
  const next: KubeconfigDoc = {
    ...doc,
    ...(doc.clusters ? { clusters: without(doc.clusters) } : {}),
    ...(doc.users ? { users: without(doc.users) } : {}),
    ...(doc.contexts ? { contexts: without(doc.contexts) } : {}),
  }
  if (next['current-context'] === opts.name) next['current-context'] = ''
  if (!had && JSON.stringify(next) === JSON.stringify(doc)) return false
  await writeDoc(target, next)
  return true
}
