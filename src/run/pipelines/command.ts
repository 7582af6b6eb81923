// The `command` pipeline: the user's own detection program as a subprocess. It reads normalized events
// as JSON lines on stdin and writes alerts as JSON lines on stdout — so any engine (a pySigma script,
// Chainsaw, a Falco build, plain Python) can be put under test next to the built-in one.
//
// stdin, one line per event:  {"seq": 0, "source": "k8s-audit", "sourcetype": "kubernetes:api",
//                              "time": "…", "auditID": "…", "derived": {…}, "raw": {…}}
// stdout, one line per alert: {"rule": "my-rule", "seq": 0}  plus optional title, level, tags, time,
//                              auditID (Falco's JSON output is accepted too: output_fields."ka.auditid")
// `seq` (or an audit ID) names the event the alert was raised on; that is what ties it to a step.
import { type ChildProcess, spawn } from 'node:child_process'
import { PurpleError } from '../../errors.js'
import type { TelemetryEvent } from '../../telemetry/event.js'
import { AlertPayloadError, parseAlertPayload } from '../alert-intake.js'
import type { DetectionPipeline, PipelineHost } from './pipeline.js'

/** Longest accepted output line; a longer one is skipped whole and counted as malformed. */
export const MAX_LINE_BYTES = 64 * 1024
/** Events waiting for the program to read them; beyond this, events are dropped (and counted). */
const MAX_PENDING_BYTES = 16 * 1024 * 1024
const STDERR_TAIL = 2048
const STOP_GRACE_MS = 2000

export interface CommandPipelineOptions {
  argv: readonly string[]
  /** The `pipeline` name its alerts carry (default `command`). */
  label?: string
  /** Offline: how long `settle` waits for the program to finish after its input is closed. */
  settleTimeoutMs?: number
}

export interface CommandPipelineStats {
  eventsSent: number
  eventsDropped: number
  alerts: number
  malformedLines: number
  unattributed: number
}

/** Parses `command=<arg>`: a JSON array of strings, or words separated by spaces. */
export function commandArgv(arg: string | undefined): string[] {
  const text = arg?.trim() ?? ''
  let argv: unknown
  if (text.startsWith('[')) {
    try {
      argv = JSON.parse(text)
    } catch (e) {
      throw new PurpleError(
        'PURPLE_USAGE',
        `--pipeline command=…: not a JSON array (${(e as Error).message})`,
      )
    }
  } else argv = text.split(' ').filter((w) => w !== '')
  if (!Array.isArray(argv) || !argv.length || !argv.every((a) => typeof a === 'string' && a !== ''))
    throw new PurpleError('PURPLE_USAGE', '--pipeline command=<program> [args…] needs a program to run', {
      hint: `e.g. --pipeline 'command=python3 my_matcher.py rules/' or command='["my prog","--flag"]'`,
    })
  return argv as string[]
}

export class CommandPipeline implements DetectionPipeline {
  readonly name: string
  readonly stats: CommandPipelineStats = {
    eventsSent: 0,
    eventsDropped: 0,
    alerts: 0,
    malformedLines: 0,
    unattributed: 0,
  }
  #child: ChildProcess | undefined
  #host: PipelineHost | undefined
  readonly #sent: TelemetryEvent[] = []
  readonly #byAuditID = new Map<string, TelemetryEvent>()
  #pendingBytes = 0
  #out = ''
  #skipping = false
  #stderr = ''
  #firstMalformed: string | undefined
  #exited: Promise<void> | undefined
  #exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined
  #stopping = false

  constructor(private readonly o: CommandPipelineOptions) {
    this.name = o.label ?? 'command'
  }

  async attach(host: PipelineHost): Promise<void> {
    this.#host = host
    const [program, ...args] = this.o.argv
    if (!program) throw new PurpleError('PURPLE_USAGE', '--pipeline command needs a program')
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false })
    this.#child = child
    this.#exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.#exitInfo = { code, signal }
        this.#flushTail()
        if (!this.#stopping && !this.#settling)
          host.problem(`pipeline ${this.name}: the program exited early (${this.#describeExit()})`)
        resolve()
      })
    })
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', (e) =>
        reject(
          new PurpleError(
            'PURPLE_COMMAND_FAILED',
            `pipeline ${this.name}: cannot start ${program}: ${e.message}`,
            {
              cause: e,
              hint: 'check the program path given to --pipeline command=…',
            },
          ),
        ),
      )
    })
    child.on('error', (e) => host.problem(`pipeline ${this.name}: ${e.message}`))
    child.stdin?.on('error', () => undefined) // EPIPE after an early exit: reported by 'close'
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => this.#onOutput(chunk))
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_TAIL)
    })
    host.onEvent((e) => this.#send(e))
    for (const e of host.events) this.#send(e)
  }

  #settling = false

  /** Closes the program's input and waits for it to finish writing alerts (offline runs). */
  async settle(): Promise<void> {
    if (!this.#child || this.#exitInfo) return
    this.#settling = true
    this.#child.stdin?.end()
    const timeoutMs = this.o.settleTimeoutMs ?? 60_000
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      this.#exited?.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (timedOut) {
      this.#host?.problem(
        `pipeline ${this.name}: the program did not finish within ${timeoutMs} ms of its input ending`,
      )
      await this.stop()
    } else if (this.#exitCode() !== 0)
      this.#host?.problem(`pipeline ${this.name}: the program failed (${this.#describeExit()})`)
    this.#reportCounts()
  }

  /** Ends the program: input closed, then SIGTERM, then SIGKILL; never leaves it running. */
  async stop(): Promise<void> {
    const child = this.#child
    if (!child || this.#exitInfo) return
    this.#stopping = true
    child.stdin?.end()
    const wait = (ms: number) =>
      Promise.race([
        this.#exited?.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
      ])
    if (await wait(STOP_GRACE_MS)) return this.#reportCounts()
    child.kill('SIGTERM')
    if (await wait(STOP_GRACE_MS)) return this.#reportCounts()
    child.kill('SIGKILL')
    await this.#exited
    this.#reportCounts()
  }

  #reported = false
  #reportCounts(): void {
    if (this.#reported) return
    this.#reported = true
    const s = this.stats
    if (s.malformedLines)
      this.#host?.problem(
        `pipeline ${this.name}: ${s.malformedLines} output line(s) were not alerts and were skipped (first: ${this.#firstMalformed})`,
      )
    if (s.eventsDropped)
      this.#host?.problem(
        `pipeline ${this.name}: ${s.eventsDropped} event(s) dropped — the program read its input too slowly`,
      )
    if (s.unattributed)
      this.#host?.problem(
        `pipeline ${this.name}: ${s.unattributed} alert(s) named no event it was sent (give "seq" or "auditID")`,
      )
  }

  #send(e: TelemetryEvent): void {
    const stdin = this.#child?.stdin
    if (!stdin?.writable || this.#exitInfo) {
      this.stats.eventsDropped++
      return
    }
    const seq = this.#sent.length
    const line = `${JSON.stringify({
      seq,
      source: e.source,
      sourcetype: e.sourcetype,
      time: e.time,
      ...(e.auditID ? { auditID: e.auditID } : {}),
      derived: e.derived,
      raw: e.raw,
    })}\n`
    if (this.#pendingBytes + line.length > MAX_PENDING_BYTES) {
      this.stats.eventsDropped++
      return
    }
    this.#sent.push(e)
    if (e.auditID && !this.#byAuditID.has(e.auditID)) this.#byAuditID.set(e.auditID, e)
    this.stats.eventsSent++
    this.#pendingBytes += line.length
    stdin.write(line, () => {
      this.#pendingBytes -= line.length
    })
  }

  // Splits stdout into lines without ever holding more than one bounded line.
  #onOutput(chunk: string): void {
    let start = 0
    for (;;) {
      const nl = chunk.indexOf('\n', start)
      const piece = chunk.slice(start, nl === -1 ? undefined : nl)
      if (!this.#skipping) {
        this.#out += piece
        if (Buffer.byteLength(this.#out) > MAX_LINE_BYTES) {
          this.#malformed(`a line longer than ${MAX_LINE_BYTES} bytes`)
          this.#out = ''
          this.#skipping = true
        }
      }
      if (nl === -1) return
      if (!this.#skipping) this.#onLine(this.#out)
      this.#out = ''
      this.#skipping = false
      start = nl + 1
    }
  }

  #flushTail(): void {
    if (this.#out && !this.#skipping) this.#onLine(this.#out)
    this.#out = ''
  }

  #onLine(text: string) {
    const line = text.trim()
    if (!line) return
    const host = this.#host
    if (!host) return
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch {
      return this.#malformed(`not JSON: ${line.slice(0, 80)}`)
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record))
      return this.#malformed(`not a JSON object: ${line.slice(0, 80)}`)
    const { seq, ...rest } = record as Record<string, unknown>
    let alert: ReturnType<typeof parseAlertPayload>[number] | undefined
    try {
      alert = parseAlertPayload(JSON.stringify(rest), { pipeline: this.name, receivedAt: new Date() })[0]
    } catch (e) {
      if (e instanceof AlertPayloadError) return this.#malformed(e.message.replace(/^body: /, ''))
      throw e
    }
    if (!alert) return
    if (
      seq !== undefined &&
      !(Number.isInteger(seq) && (seq as number) >= 0 && (seq as number) < this.#sent.length)
    )
      return this.#malformed(`"seq" ${JSON.stringify(seq).slice(0, 20)} names no event that was sent`)
    const event =
      seq !== undefined
        ? this.#sent[seq as number]
        : alert.auditID
          ? this.#byAuditID.get(alert.auditID)
          : undefined
    this.stats.alerts++
    if (!event) {
      this.stats.unattributed++
      host.addAlert({ ...alert, alertTime: host.alertTime(undefined) })
      return
    }
    host.addAlert({
      ...alert,
      // The event's own time unless the program stated another.
      time: 'time' in rest ? alert.time : event.time,
      alertTime: host.alertTime(event),
      evidence: event,
      ...(event.auditID ? { auditID: event.auditID } : {}),
    })
  }

  #malformed(why: string): void {
    this.stats.malformedLines++
    this.#firstMalformed ??= why
  }

  #exitCode(): number | null | undefined {
    return this.#exitInfo?.code
  }

  #describeExit(): string {
    const i = this.#exitInfo
    const how = i?.signal ? `signal ${i.signal}` : `exit code ${i?.code}`
    const err = this.#stderr.trim().split('\n').slice(-3).join(' | ')
    return err ? `${how}: ${err}` : how
  }
}
