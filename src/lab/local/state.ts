// The lab's state file: everything a later `up`/`down`/`status` (possibly from a new harness process
// after a crash) needs to find and judge what an earlier `up` started.
import { readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { PurpleError } from '../../errors.js'

const daemon = z.object({
  name: z.string(),
  pid: z.number().int().positive(),
  startTime: z.string(),
  logFile: z.string(),
})

const stateSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  dir: z.string(),
  createdAt: z.string(),
  netns: z.string(),
  workDir: z.string(),
  binDir: z.string(),
  versions: z.record(z.string(), z.string()),
  ports: z.object({
    etcdClient: z.number().int(),
    etcdPeer: z.number().int(),
    apiserver: z.number().int(),
    kwok: z.number().int(),
    receiver: z.number().int(),
    imds: z.number().int(),
    aws: z.number().int().optional(),
    azure: z.number().int().optional(),
  }),
  daemons: z.array(daemon),
  /** Set once every component is up and the node is Ready. */
  complete: z.boolean(),
})

export type LabState = z.infer<typeof stateSchema>

export function readState(file: string): LabState | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new PurpleError('PURPLE_LAB_FAILED', `${file}: lab state file is not JSON`, {
      hint: `remove ${file} after stopping the lab's processes by hand`,
    })
  }
  const parsed = stateSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new PurpleError('PURPLE_LAB_FAILED', `${file}:${issue?.path.join('.') ?? ''}: ${issue?.message}`, {
      hint: `the state file was written by another purplekind version; remove ${file} after stopping the lab's processes`,
    })
  }
  return parsed.data
}

/** Atomic write (rename) so a crash never leaves a half-written state file. */
export async function writeState(file: string, state: LabState): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
  await rename(`${file}.tmp`, file)
}
