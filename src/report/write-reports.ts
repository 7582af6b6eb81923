// Writes every report for a run to reports/<run-id>/ and mirrors them to reports/latest/. Redaction
// happens twice: on the result before rendering (so escaping cannot disguise a secret) and on each
// rendered file (a safety net for anything a renderer adds). One failing reporter never stops the others.
import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { PurpleError } from '../errors.js'
import type { Redactor } from '../redact/redactor.js'
import type { RunResult } from '../run/result.js'
import { renderJson } from './json.js'
import { renderJunit } from './junit.js'
import { renderMarkdown } from './markdown.js'
import { renderNavigatorLayer } from './navigator.js'

/** A reporter is a pure render function and the file name it writes. */
export interface Reporter {
  readonly name: string
  readonly file: string
  render(result: RunResult): string
}

export const REPORTERS: readonly Reporter[] = [
  { name: 'markdown', file: 'report.md', render: renderMarkdown },
  { name: 'json', file: 'report.json', render: renderJson },
  { name: 'junit', file: 'junit.xml', render: renderJunit },
  { name: 'navigator', file: 'navigator-layer.json', render: renderNavigatorLayer },
]

export const LATEST_DIR = 'latest'

export interface WriteReportsOptions {
  /** Parent folder of the per-run folders; default `reports`. */
  dir?: string
  redactor: Redactor
  /** Defaults to REPORTERS. */
  reporters?: readonly Reporter[]
}

export interface WriteReportsResult {
  /** The run's folder, `<dir>/<run-id>`. */
  dir: string
  /** Files written there. */
  files: string[]
  /** One error per reporter (or copy) that failed; the caller prints them and exits 2. */
  errors: PurpleError[]
}

// The run id names a folder: it must not climb out of the reports folder or replace `latest`.
const SAFE_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

function checkRunId(runId: string, redactor: Redactor): void {
  if (!SAFE_RUN_ID.test(runId) || runId === LATEST_DIR || runId.includes('..')) {
    throw new PurpleError(
      'PURPLE_INTERNAL',
      `run id "${redactor.redact(runId)}" cannot name a report folder (letters, digits, . _ - only)`,
    )
  }
}

function reporterError(what: string, cause: unknown, redactor: Redactor): PurpleError {
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new PurpleError('PURPLE_INTERNAL', `${what}: ${redactor.redact(detail)}`, {
    hint: 'the other reports were still written',
  })
}

export async function writeReports(
  result: RunResult,
  opts: WriteReportsOptions,
): Promise<WriteReportsResult> {
  const { redactor } = opts
  checkRunId(result.runId, redactor)
  const root = opts.dir ?? 'reports'
  const runDir = join(root, result.runId)
  await mkdir(runDir, { recursive: true })

  const safe = redactor.redactValue(result)
  const files: string[] = []
  const errors: PurpleError[] = []
  for (const reporter of opts.reporters ?? REPORTERS) {
    try {
      const text = redactor.redact(reporter.render(safe))
      const path = join(runDir, reporter.file)
      await writeFile(path, text, 'utf8')
      files.push(path)
    } catch (cause) {
      errors.push(reporterError(`${reporter.name} report (${reporter.file}) failed`, cause, redactor))
    }
  }
  try {
    await refreshLatest(root, files)
  } catch (cause) {
    errors.push(reporterError(`could not refresh ${join(root, LATEST_DIR)}`, cause, redactor))
  }
  return { dir: runDir, files, errors }
}

/** Replaces `<root>/latest` with copies of `files`: built beside it, then swapped in by rename. */
async function refreshLatest(root: string, files: readonly string[]): Promise<void> {
  const staging = join(root, `.${LATEST_DIR}-${process.pid}-${randomBytes(4).toString('hex')}`)
  await mkdir(staging)
  try {
    for (const file of files) await copyFile(file, join(staging, basename(file)))
    const latest = join(root, LATEST_DIR)
    await rm(latest, { recursive: true, force: true })
    await rename(staging, latest)
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}
