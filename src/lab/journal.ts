// The run journal: every host resource a run creates that outlives a SIGKILL of the harness (a server
// process, a file holding secrets, a socket) is written here — synchronously, before it is created, or
// right after a process is spawned (its pid exists only then) — so `purplekind sweep` can remove it once
// the run that wrote it is dead. Kubernetes objects and containers are found by their labels instead
// (sweep.ts); this covers what labels cannot mark. One JSON line per entry, 0600, in a 0700 directory.
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { procStartTime } from './process.js'

export type JournalEntry =
  /** A process to kill; `startTime` (from /proc) keeps a reused pid from being killed. */
  | { kind: 'process'; name: string; pid: number; startTime: string }
  /** A file, directory or socket to remove; as `owner` when that user owns the place (never root-walked). */
  | { kind: 'path'; path: string; owner?: { uid: number; gid: number } }

type Header = { kind: 'run'; runId: string; pid: number; startTime: string }

export interface RunJournal {
  readonly file: string
  /** Appends and fsyncs the entry (call before creating the resource). */
  record(entry: JournalEntry): void
  /** The run ended cleanly and released everything: the journal goes. */
  close(): void
}

export function journalDir(home: string): string {
  return join(home, 'journal')
}

export function openRunJournal(home: string, runId: string): RunJournal {
  const dir = journalDir(home)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, `${runId.replace(/[^\w.-]/g, '_')}.jsonl`)
  const append = (value: Header | JournalEntry) => {
    const fd = openSync(file, 'a', 0o600)
    try {
      appendFileSync(fd, `${JSON.stringify(value)}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
  append({ kind: 'run', runId, pid: process.pid, startTime: procStartTime(process.pid) ?? '' })
  return {
    file,
    record: append,
    close: () => rmSync(file, { force: true }),
  }
}

/** The process entry for a child just spawned (undefined if it is already gone). */
export function processEntry(name: string, pid: number | undefined): JournalEntry | undefined {
  const startTime = pid === undefined ? undefined : procStartTime(pid)
  return pid !== undefined && startTime ? { kind: 'process', name, pid, startTime } : undefined
}

export interface JournalSweep {
  /** Journals of dead runs that were swept (or would be, in a dry run). */
  runs: string[]
  removed: string[]
  /** Journals left alone because their run is still alive. */
  live: string[]
  /** Journals of dead runs left alone because they are younger than `olderThanMs`. */
  young: string[]
}

interface JournalFile {
  file: string
  /** Last write (epoch ms): the run's last journalled resource. */
  mtimeMs: number
  header?: Header
  entries: JournalEntry[]
}

function readJournals(home: string): JournalFile[] {
  const dir = journalDir(home)
  let names: string[] = []
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.jsonl'))
  } catch {
    return []
  }
  return names.sort().flatMap((name) => {
    const file = join(dir, name)
    let text: string
    let mtimeMs: number
    try {
      mtimeMs = statSync(file).mtimeMs
      text = readFileSync(file, 'utf8')
    } catch {
      return [] // closed by its run meanwhile
    }
    const parsed = text
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Header | JournalEntry]
        } catch {
          return [] // a line torn by the crash
        }
      })
    const header = parsed.find((e): e is Header => e.kind === 'run')
    const entries = parsed.filter((e): e is JournalEntry => e.kind !== 'run')
    return [{ file, mtimeMs, ...(header ? { header } : {}), entries }]
  })
}

// The journal's header is the run's lock: its pid with that pid's /proc start time, so a pid reused by
// another process after a crash does not keep a dead run "alive".
function isLive(h: Header | undefined): h is Header {
  return h !== undefined && procStartTime(h.pid) === h.startTime
}

/** Runs still in progress on this host (their journal's process is alive): sweep must not touch them. */
export function liveRuns(home: string): Set<string> {
  return new Set(
    readJournals(home)
      .map((j) => j.header)
      .filter(isLive)
      .map((h) => h.runId),
  )
}

/**
 * Removes what every journal of a dead run recorded: processes first, then paths. With `olderThanMs`,
 * only journals last written at least that long ago.
 */
export async function sweepJournals(
  home: string,
  o: { dryRun: boolean; olderThanMs?: number; now?: number },
): Promise<JournalSweep> {
  const out: JournalSweep = { runs: [], removed: [], live: [], young: [] }
  const now = o.now ?? Date.now()
  for (const { file, mtimeMs, header, entries } of readJournals(home)) {
    const name = header?.runId ?? file
    if (isLive(header)) {
      out.live.push(header.runId)
      continue
    }
    if (o.olderThanMs !== undefined && now - mtimeMs < o.olderThanMs) {
      out.young.push(name)
      continue
    }
    out.runs.push(name)
    for (const e of entries) {
      if (e.kind !== 'process' || procStartTime(e.pid) !== e.startTime) continue
      out.removed.push(`process ${e.name} (pid ${e.pid})`)
      if (!o.dryRun) killHard(e.pid)
    }
    for (const e of entries.reverse()) {
      if (e.kind !== 'path') continue
      out.removed.push(`path ${e.path}`)
      if (!o.dryRun) await removePath(e.path, e.owner)
    }
    if (!o.dryRun) rmSync(file, { force: true })
  }
  return out
}

function killHard(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

async function removePath(path: string, owner?: { uid: number; gid: number }): Promise<void> {
  const self = !owner || (process.getuid?.() === owner.uid && process.getgid?.() === owner.gid)
  if (self) {
    rmSync(path, { recursive: true, force: true })
    return
  }
  // A place another user owns: removed as that user, so a planted symlink reaches only its own files.
  await execa('rm', ['-rf', '--', path], {
    uid: owner.uid,
    gid: owner.gid,
    cwd: '/',
    env: { PATH: '/usr/bin:/bin' },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  })
}
