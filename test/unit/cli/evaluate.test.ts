import { Command } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { alertLine, registerEvaluate, runEvaluate } from '../../../src/cli/commands/evaluate.js'
import type { Alert } from '../../../src/detection/types.js'
import { PurpleError } from '../../../src/errors.js'

const RULES = 'test/fixtures/engine/rules'
const EVENTS = 'test/fixtures/engine/events'

async function run(opts: Partial<Parameters<typeof runEvaluate>[0]>) {
  const lines: string[] = []
  const code = await runEvaluate(
    { rules: [RULES], events: [], source: 'auto', format: 'jsonl', ...opts },
    (l) => lines.push(l),
  )
  return { code, lines }
}

describe('runEvaluate', () => {
  it('prints one JSON object per alert, keys in the documented order, with 0-based line indexes', async () => {
    const { code, lines } = await run({ events: [`${EVENTS}/audit.jsonl`] })
    expect(code).toBe(0)
    expect(lines).toHaveLength(7)
    expect(lines[0]).toBe(
      `{"rule":"secrets-list","title":"Kubernetes secrets listed by a person","file":"${EVENTS}/audit.jsonl",` +
        '"event":1,"auditID":"00000000-0000-4000-8000-000000000001","time":"2026-01-12T08:00:01.000000Z"}',
    )
    for (const line of lines) {
      expect(Object.keys(JSON.parse(line))).toEqual(['rule', 'title', 'file', 'event', 'auditID', 'time'])
    }
    expect(lines.map((l) => JSON.parse(l).event)).toEqual([1, 3, 4, 4, 4, 5, 6])
  })

  it('omits auditID when the event has none, and names each events file as given', async () => {
    const { lines } = await run({ events: [`./${EVENTS}/docker-events.jsonl`] })
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        rule: 'docker-container-create',
        title: 'Docker container created',
        file: `./${EVENTS}/docker-events.jsonl`,
        event: 1,
        time: '2026-01-12T08:00:00.000Z',
      },
    ])
  })

  it('exits 0 and prints nothing when no rule fires', async () => {
    const { code, lines } = await run({
      rules: [`${RULES}/k8s/secrets-list.yml`],
      events: [`${EVENTS}/docker-events.jsonl`],
    })
    expect(code).toBe(0)
    expect(lines).toEqual([])
  })

  it('evaluates several events files in order, honouring an explicit --source', async () => {
    const { lines } = await run({
      events: [`${EVENTS}/audit.jsonl`, `${EVENTS}/audit.jsonl`],
      source: 'k8s-audit',
    })
    expect(lines).toHaveLength(14)
    expect(lines.slice(0, 7)).toEqual(lines.slice(7))
  })

  it('prints an aligned table with 1-based line numbers and a count line', async () => {
    const { code, lines } = await run({
      rules: [`${RULES}/k8s/secrets-list.yml`],
      events: [`${EVENTS}/audit.jsonl`],
      format: 'table',
    })
    expect(code).toBe(0)
    const file = `${EVENTS}/audit.jsonl`
    expect(lines).toEqual([
      `RULE          TIME                         FILE:LINE${' '.repeat(file.length - 5)}AUDIT ID`,
      `secrets-list  2026-01-12T08:00:01.000000Z  ${file}:2  00000000-0000-4000-8000-000000000001`,
      `secrets-list  2026-01-12T08:00:06.000000Z  ${file}:7  00000000-0000-4000-8000-000000000006`,
      '',
      '2 alerts from 1 rule',
    ])
  })

  it('prints only the count when the table is empty', async () => {
    const { lines } = await run({
      events: [`${EVENTS}/docker-events.jsonl`],
      rules: [`${RULES}/k8s`],
      format: 'table',
    })
    expect(lines).toEqual(['0 alerts'])
  })

  it('throws PURPLE_EVENTS_INVALID naming the file and 1-based line of a bad line', async () => {
    const error = await run({ events: [`${EVENTS}/bad-json.jsonl`], source: 'k8s-audit' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(PurpleError)
    expect((error as PurpleError).code).toBe('PURPLE_EVENTS_INVALID')
    expect((error as PurpleError).message).toMatch(new RegExp(`^${EVENTS}/bad-json\\.jsonl:2: `))
  })

  it('throws PURPLE_INPUT_NOT_FOUND for a missing events file', async () => {
    const error = await run({ events: [`${EVENTS}/nope.jsonl`] }).catch((e: unknown) => e)
    expect((error as PurpleError).code).toBe('PURPLE_INPUT_NOT_FOUND')
    expect((error as PurpleError).message).toContain(`${EVENTS}/nope.jsonl`)
  })

  it('refuses an unknown format or source with PURPLE_USAGE', async () => {
    const events = [`${EVENTS}/audit.jsonl`]
    const badFormat = await run({ events, format: 'csv' as 'jsonl' }).catch((e: unknown) => e)
    expect((badFormat as PurpleError).code).toBe('PURPLE_USAGE')
    const badSource = await run({ events, source: 'syslog' as 'auto' }).catch((e: unknown) => e)
    expect((badSource as PurpleError).code).toBe('PURPLE_USAGE')
  })
})

describe('purplekind evaluate (commander)', () => {
  afterEach(() => {
    vi.restoreAllMocks()
    process.exitCode = undefined
  })

  function program() {
    const p = new Command('purplekind').exitOverride()
    p.configureOutput({ writeErr: () => {}, writeOut: () => {} })
    registerEvaluate(p)
    return p
  }

  it('parses its options (--index reaches the events), writes alerts to stdout, sets exit code 0', async () => {
    const written: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    const args = ['evaluate', '--rules', `${RULES}/k8s`, `${RULES}/spl`, '--events', `${EVENTS}/audit.jsonl`]
    await program().parseAsync([...args, '--source', 'k8s-audit', '--format', 'jsonl', '--index', 'lab'], {
      from: 'user',
    })
    vi.restoreAllMocks()
    expect(process.exitCode).toBe(0)
    const lines = written.join('').trimEnd().split('\n')
    // The SPL rule asks for index=containers, so with --index lab it stays silent.
    expect(lines.map((l) => JSON.parse(l).rule)).toEqual([
      'secrets-list',
      'exec-imds',
      'kubectl-exec-command',
      'exec-imds',
      'secrets-list',
    ])
  })

  it('lets commander refuse a source outside the list', async () => {
    const args = ['evaluate', '--rules', RULES, '--events', `${EVENTS}/audit.jsonl`, '--source', 'syslog']
    await expect(program().parseAsync(args, { from: 'user' })).rejects.toThrow(/syslog/)
  })

  it('lets a PurpleError propagate to the main CLI', async () => {
    const args = ['evaluate', '--rules', `${RULES}/nope`, '--events', `${EVENTS}/audit.jsonl`]
    await expect(program().parseAsync(args, { from: 'user' })).rejects.toMatchObject({
      code: 'PURPLE_INPUT_NOT_FOUND',
    })
  })
})

describe('alertLine', () => {
  it('writes what JSON.stringify of the alert fields writes, in the same key order', () => {
    const base = {
      title: 'T "quoted" \\ \u2028 ü',
      tags: [],
      time: '2026-01-12T08:00:00Z',
      pipeline: 'builtin',
    }
    const alerts = [
      { ...base, rule: 'r1', file: 'a.jsonl', event: 0, auditID: 'f181250f-d25e', alertTime: 'x' },
      { ...base, rule: 'r"2', file: 'dir/b\nc.jsonl', event: 41, alertTime: 'x' },
      { ...base, rule: 'r3', alertTime: 'x' },
      // Back to an earlier file, and an empty name (the file member is cached per last file).
      { ...base, rule: 'r1', file: 'a.jsonl', event: 7, alertTime: 'x' },
      { ...base, rule: 'r1', file: '', event: 8, alertTime: 'x' },
    ] as Alert[]
    for (const a of alerts) {
      const expected = JSON.stringify({
        rule: a.rule,
        title: a.title,
        file: a.file,
        event: a.event,
        ...(a.auditID !== undefined ? { auditID: a.auditID } : {}),
        time: a.time,
      })
      expect(alertLine(a)).toBe(expected)
    }
  })
})
