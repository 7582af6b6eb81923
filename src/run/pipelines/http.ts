// The `http` pipeline: today's alert intake (Falco http_output, Alertmanager-style webhooks, generic
// JSON) wrapped as a pipeline. Parsing and attribution stay in ../alert-intake.ts.
import path from 'node:path'
import { PurpleError } from '../../errors.js'
import type { Redactor } from '../../redact/redactor.js'
import { type AlertIntake, ExternalAlerts, startAlertIntake } from '../alert-intake.js'
import { TelemetryBus } from '../telemetry-bus.js'
import type { DetectionPipeline } from './pipeline.js'

export interface HttpPipelineOptions {
  port: number
  token?: string
  /** Where a supplied token came from (`--alerts-token-file`, an environment variable), for the log. */
  tokenSource?: string
  /** Directory for the generated token's 0600 file. */
  runDir: string
  /** false: built-in alerts do not count for verdicts (`--no-builtin`). */
  builtinCounts: boolean
  redactor: Redactor
  log: (line: string) => void
}

export interface HttpPipeline extends DetectionPipeline {
  /** The alerts received; the runner asks it for window-attributed alerts per step. */
  readonly alerts: ExternalAlerts
}

export function httpPipeline(o: HttpPipelineOptions): HttpPipeline {
  const alerts = new ExternalAlerts({ builtin: o.builtinCounts })
  let server: AlertIntake | undefined
  return {
    name: 'http',
    alerts,
    async attach(host) {
      if (!(host instanceof TelemetryBus))
        throw new PurpleError('PURPLE_USAGE', 'the http pipeline needs a live run (it listens for alerts)')
      server = await startAlertIntake({
        port: o.port,
        ...(o.token ? { token: o.token } : {}),
        tokenFile: path.join(o.runDir, 'alerts.token'),
        alerts,
        log: o.log,
      })
      o.redactor.add(server.token)
      const where = server.tokenFile
        ? `token in ${server.tokenFile} (removed after the run)`
        : `your token (${o.tokenSource ?? 'supplied'})`
      o.log(
        `alert intake: POST ${server.url} with "Authorization: Bearer <token>" or ?token=<token> — ${where}`,
      )
      if (!o.builtinCounts) o.log('alert intake: --no-builtin — only external alerts count for verdicts')
      alerts.attach(host)
    },
    async stop() {
      await server?.stop()
    },
  }
}
