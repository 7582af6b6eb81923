// Parsed Sigma documents, cached by content. YAML parsing is most of `evaluate`'s start-up (about 2.5
// ms per rule file while the parser is still cold, 250 ms for 100 rules); JSON.parse of the same
// documents is a small fraction of that, and rule sets are evaluated again and again (CI, nightly).
//
// An entry is keyed by the SHA-256 of the file's text and this format's version, so an edited rule is
// simply a miss. Only files that parsed without a single issue, and whose documents survive a JSON
// round trip unchanged, are stored. Every cache problem (missing, unreadable, corrupt, unwritable) is
// a miss, never an error: the YAML path is always there. PURPLEKIND_RULE_CACHE=off disables it.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { cacheRoot } from '../../util/cache-dir.js'

const FORMAT = 'sigma-docs-v1'

function entry(text: string): string | undefined {
  if (process.env.PURPLEKIND_RULE_CACHE === 'off') return undefined
  const key = createHash('sha256').update(FORMAT).update('\0').update(text).digest('hex')
  return join(cacheRoot(), FORMAT, `${key}.json`)
}

/** The documents cached for this exact text, or undefined. */
export function cachedDocuments(text: string): Record<string, unknown>[] | undefined {
  const file = entry(text)
  if (!file) return undefined
  try {
    const docs: unknown = JSON.parse(readFileSync(file, 'utf8'))
    if (!Array.isArray(docs) || !docs.every((d) => typeof d === 'object' && d !== null && !Array.isArray(d)))
      return undefined
    return docs as Record<string, unknown>[]
  } catch {
    return undefined
  }
}

/** Stores the documents parsed from `text` when JSON keeps them exactly as they are. */
export function storeDocuments(text: string, docs: readonly Record<string, unknown>[]): void {
  const file = entry(text)
  if (!file) return
  try {
    const json = JSON.stringify(docs)
    if (!isDeepStrictEqual(JSON.parse(json), docs)) return
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 })
    // Written aside and renamed: a reader never sees half an entry.
    const partial = `${file}.${process.pid}.tmp`
    writeFileSync(partial, json, { mode: 0o600 })
    renameSync(partial, file)
  } catch {
    // A read-only or full cache only costs the next run its YAML parse.
  }
}
