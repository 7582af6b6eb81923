import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PurpleError } from '../../../src/errors.js'
import { fingerprint, Redactor } from '../../../src/redact/redactor.js'
import { REPORTERS, type Reporter, writeReports } from '../../../src/report/write-reports.js'
import {
  CANARIES,
  LEAKED_VALUES,
  leakyRunResult,
  RUN_ID,
  runResult,
} from '../../fixtures/report/run-result.js'
import { parseXml } from './xml-check.js'

const FILES = ['junit.xml', 'navigator-layer.json', 'report.json', 'report.md']

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'purplekind-reports-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function readAll(dir: string): Promise<Map<string, string>> {
  const names = (await readdir(dir)).sort()
  return new Map(
    await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')] as const)),
  )
}

describe('writeReports', () => {
  it('writes the four reports to <dir>/<run-id>/ and mirrors them to <dir>/latest/', async () => {
    const out = await writeReports(runResult(), { dir: root, redactor: new Redactor() })
    expect(out.errors).toEqual([])
    expect(out.dir).toBe(join(root, RUN_ID))
    expect(out.files.map((f) => f.slice(out.dir.length + 1)).sort()).toEqual(FILES)
    const run = await readAll(out.dir)
    const latest = await readAll(join(root, 'latest'))
    expect([...run.keys()]).toEqual(FILES)
    expect(latest).toEqual(run)
  })

  it('replaces the contents of latest/ on every run', async () => {
    await mkdir(join(root, 'latest'), { recursive: true })
    await writeFile(join(root, 'latest', 'stale.txt'), 'from an old run')
    await writeReports(runResult(), { dir: root, redactor: new Redactor() })
    const second = { ...runResult(), runId: 'second-run' }
    await writeReports(second, { dir: root, redactor: new Redactor() })
    expect((await readdir(join(root, 'latest'))).sort()).toEqual(FILES)
    expect(JSON.parse(await readFile(join(root, 'latest', 'report.json'), 'utf8')).runId).toBe('second-run')
    expect((await readdir(root)).sort()).toEqual([RUN_ID, 'latest', 'second-run'])
  })

  it('keeps writing the other reports when one reporter throws, and returns its error redacted', async () => {
    const broken: Reporter = {
      name: 'broken',
      file: 'broken.txt',
      render: () => {
        throw new Error(`renderer exploded near ${CANARIES[0]}`)
      },
    }
    const reporters = [REPORTERS[0]!, broken, ...REPORTERS.slice(1)]
    const out = await writeReports(runResult(), {
      dir: root,
      redactor: new Redactor({ secrets: CANARIES }),
      reporters,
    })
    expect(out.errors).toHaveLength(1)
    const [error] = out.errors
    expect(error).toBeInstanceOf(PurpleError)
    expect(error?.code).toBe('PURPLE_INTERNAL')
    expect(error?.message).toContain(
      'broken report (broken.txt) failed: renderer exploded near [REDACTED:canary:',
    )
    expect(error?.message).not.toContain(CANARIES[0])
    expect((await readdir(out.dir)).sort()).toEqual(FILES)
    expect((await readdir(join(root, 'latest'))).sort()).toEqual(FILES)
  })

  it('redacts what a renderer adds on its own, not only what the result carries', async () => {
    const [canary] = CANARIES as [string]
    const chatty: Reporter = { name: 'chatty', file: 'chatty.txt', render: () => `from env: ${canary}\n` }
    const redactor = new Redactor({ secrets: CANARIES })
    const out = await writeReports(runResult(), { dir: root, redactor, reporters: [chatty] })
    expect(await readFile(join(out.dir, 'chatty.txt'), 'utf8')).toBe(
      `from env: [REDACTED:canary:${fingerprint(canary)}]\n`,
    )
  })

  it('refuses a run id that could escape the reports folder', async () => {
    for (const runId of ['../evil', 'latest', 'a/b', '']) {
      await expect(
        writeReports({ ...runResult(), runId }, { dir: root, redactor: new Redactor() }),
      ).rejects.toThrow(PurpleError)
    }
    expect(await readdir(root)).toEqual([])
  })
})

describe('writeReports redaction', () => {
  it('changes nothing in the reports of a run that holds no secrets (no false positives)', async () => {
    const redactor = new Redactor({ secrets: CANARIES })
    const out = await writeReports(runResult(), { dir: root, redactor })
    for (const [name, text] of await readAll(out.dir)) {
      const reporter = REPORTERS.find((r) => r.file === name)!
      expect(text, name).toBe(reporter.render(runResult()))
      expect(text, name).not.toContain('[REDACTED:')
    }
  })

  it('leaves no planted secret in any written file, and shows canary fingerprints instead', async () => {
    const result = leakyRunResult()
    const serialized = JSON.stringify(result)
    const [db, sp] = CANARIES as [string, string]
    const forms = [...LEAKED_VALUES, Buffer.from(db).toString('base64'), encodeURIComponent(sp)]
    // The fixture really does plant every value (else this test proves nothing).
    for (const v of forms) expect(serialized).toContain(v)

    const out = await writeReports(result, { dir: root, redactor: new Redactor({ secrets: CANARIES }) })
    expect(out.errors).toEqual([])
    const written = new Map([
      ...[...(await readAll(out.dir))].map(([n, t]) => [`run/${n}`, t] as const),
      ...[...(await readAll(join(root, 'latest')))].map(([n, t]) => [`latest/${n}`, t] as const),
    ])
    expect(written.size).toBe(8)
    for (const [name, text] of written) {
      for (const v of forms) expect(text.includes(v), `${name} contains ${v}`).toBe(false)
      expect(text, name).not.toMatch(/eyJhbGci|AKIA[A-Z0-9]{16}|BEGIN RSA PRIVATE KEY|MIIEpAIBAAK/)
    }
    const md = written.get('run/report.md') ?? ''
    const json = written.get('run/report.json') ?? ''
    const junit = written.get('run/junit.xml') ?? ''
    for (const canary of CANARIES) {
      for (const text of [md, json, junit]) expect(text).toContain(`REDACTED:canary:${fingerprint(canary)}`)
    }
    expect(md).toContain('[REDACTED:jwt:')
    expect(md).toContain('[REDACTED:aws-key:')
    expect(md).toContain('[REDACTED:pem:')
    // Redaction keeps every format valid.
    expect(() => JSON.parse(json)).not.toThrow()
    expect(() => JSON.parse(written.get('run/navigator-layer.json') ?? '')).not.toThrow()
    expect(() => parseXml(junit)).not.toThrow()
    // The alert's raw event (with a Secret's data) is never written.
    expect(json).not.toContain('responseObject')
  })
})
