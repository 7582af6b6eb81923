// Sealing: the plan (and what actually ran) is encrypted at rest until the debrief. The key lives only
// in the instructor's directory — owned by the instructor, mode 0700, the key file 0600 — so the blue
// side, as another user, can read the exercise directory (telemetry, status, sealed files) but not the
// plan. AES-256-GCM authenticates too: a sealed file that was tampered with does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PurpleError } from '../errors.js'
import { labHome } from '../lab/local/index.js'

export const SEALED_FORMAT = 'purplekind.io/sealed/v1'

export interface Sealed {
  format: typeof SEALED_FORMAT
  /** What it holds and for which exercise; bound to the ciphertext as associated data. */
  label: string
  iv: string
  tag: string
  data: string
}

export function seal(value: unknown, key: Buffer, label: string): Sealed {
  checkKey(key)
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(label, 'utf8'))
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()])
  return {
    format: SEALED_FORMAT,
    label,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  }
}

export function unseal<T>(sealed: Sealed, key: Buffer, label: string, where: string): T {
  checkKey(key)
  if (sealed?.format !== SEALED_FORMAT)
    throw new PurpleError('PURPLE_EVENTS_INVALID', `${where}:format: not a sealed purplekind file`)
  if (sealed.label !== label)
    throw new PurpleError(
      'PURPLE_EVENTS_INVALID',
      `${where}:label: sealed for "${sealed.label}", expected "${label}"`,
    )
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'))
    decipher.setAAD(Buffer.from(label, 'utf8'))
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'))
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()])
    return JSON.parse(text.toString('utf8')) as T
  } catch {
    throw new PurpleError(
      'PURPLE_EVENTS_INVALID',
      `${where}: cannot open: wrong key or the file was changed`,
      { hint: 'the key is the one `exercise start` wrote to the instructor directory' },
    )
  }
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new PurpleError('PURPLE_INTERNAL', 'an exercise key is 32 bytes')
}

export async function writeSealed(file: string, value: unknown, key: Buffer, label: string): Promise<void> {
  await writeFile(file, `${JSON.stringify(seal(value, key, label))}\n`, { mode: 0o644 })
}

export async function readSealed<T>(file: string, key: Buffer, label: string): Promise<T> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${file}: no sealed file here`)
  }
  let parsed: Sealed
  try {
    parsed = JSON.parse(text) as Sealed
  } catch {
    throw new PurpleError('PURPLE_EVENTS_INVALID', `${file}: not JSON`)
  }
  return unseal<T>(parsed, key, label, file)
}

// --- The instructor's directory ------------------------------------------------------------------------

/** Where instructor secrets live: PURPLEKIND_INSTRUCTOR_DIR, else <purplekind home>/instructor. */
export function instructorRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.PURPLEKIND_INSTRUCTOR_DIR || path.join(labHome(env), 'instructor')
}

/**
 * A directory only its owner can enter. Refuses one that is a symlink, owned by someone else or open to
 * group/others: another user could then read the key or swap it for their own.
 */
export async function privateDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const st = await lstat(dir)
  const uid = process.geteuid?.()
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid))
    throw new PurpleError(
      'PURPLE_USAGE',
      `${dir} is not a directory owned by this user: refusing to keep exercise keys there`,
    )
  if (st.mode & 0o077) await chmod(dir, 0o700)
  return dir
}

export function exerciseKeyDir(exerciseId: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(instructorRoot(env), exerciseId)
}

/** Creates the exercise's key (0600, in a 0700 directory of the instructor's). */
export async function createExerciseKey(exerciseId: string, env = process.env): Promise<Buffer> {
  await privateDir(instructorRoot(env))
  const dir = await privateDir(exerciseKeyDir(exerciseId, env))
  const key = randomBytes(32)
  await writeFile(path.join(dir, 'key'), `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch(
    (e: NodeJS.ErrnoException) => {
      throw new PurpleError(
        'PURPLE_USAGE',
        e.code === 'EEXIST'
          ? `exercise ${exerciseId} already has a key; exercise ids are never reused`
          : `cannot write the exercise key: ${e.message}`,
      )
    },
  )
  return key
}

/** Reads the key from `keyFile`, or from the instructor directory. */
export async function readExerciseKey(
  exerciseId: string,
  keyFile?: string,
  env = process.env,
): Promise<Buffer> {
  const file = keyFile ?? path.join(exerciseKeyDir(exerciseId, env), 'key')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw new PurpleError(
      'PURPLE_INPUT_NOT_FOUND',
      `cannot read the key of exercise ${exerciseId} (${file}): ${(e as NodeJS.ErrnoException).code ?? e}`,
      { hint: 'only the instructor can open the plan; pass --key-file if the key was copied elsewhere' },
    )
  }
  const key = Buffer.from(text.trim(), 'hex')
  if (key.length !== 32)
    throw new PurpleError('PURPLE_EVENTS_INVALID', `${file}: not an exercise key (64 hex digits)`)
  return key
}

/**
 * One token per team, each in its own 0600 file under the instructor's directory (`sub` keeps the tokens
 * of one class apart from another's), for the instructor to hand out.
 */
export async function writeTeamTokens(
  exerciseId: string,
  tokens: Readonly<Record<string, string>>,
  sub: string,
  env = process.env,
): Promise<Record<string, string>> {
  await privateDir(instructorRoot(env))
  await privateDir(exerciseKeyDir(exerciseId, env))
  const dir = await privateDir(path.join(exerciseKeyDir(exerciseId, env), sub))
  const out: Record<string, string> = {}
  for (const [team, token] of Object.entries(tokens)) {
    const file = path.join(dir, `${team}.token`)
    await writeFile(file, `${token}\n`, { mode: 0o600 })
    await chmod(file, 0o600)
    out[team] = file
  }
  return out
}
