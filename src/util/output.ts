import { Chalk, type ChalkInstance } from 'chalk'

/** Where the CLI writes: program output to stdout, progress to stderr; colour decided once. */
export interface Output {
  readonly color: ChalkInstance
  readonly verbose: boolean
  readonly json: boolean
  /** Program output (stdout). */
  out(line: string): void
  /** Progress and diagnostics (stderr); plain lines in CI or when not a TTY. */
  log(line: string): void
  /** A task line: returns a function to mark it done or failed (spinner-free, CI-safe). */
  task(title: string): (ok: boolean, detail?: string) => void
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export function createOutput(opts: { color?: boolean; verbose?: boolean; json?: boolean } = {}): Output {
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI
  // commander's --no-color yields color: true by default, so only an explicit false counts.
  const useColor = opts.color !== false && tty && !process.env.NO_COLOR
  const color = new Chalk({ level: useColor ? 1 : 0 })
  const started = new Map<string, number>()
  let spinning = 0
  const output: Output = {
    color,
    verbose: Boolean(opts.verbose),
    json: Boolean(opts.json),
    out: (line) => process.stdout.write(`${line}\n`),
    // Log lines clear an active spinner's line first, and the spinner redraws on its next tick.
    log: (line) => process.stderr.write(`${spinning ? '\r\x1b[2K' : ''}${line}\n`),
    task(title) {
      started.set(title, Date.now())
      // A spinner only on an interactive terminal; CI and pipes get one plain line per state.
      let spin: NodeJS.Timeout | undefined
      if (tty) {
        let frame = 0
        spin = setInterval(
          () => process.stderr.write(`\r${color.cyan(SPINNER[frame++ % SPINNER.length])} ${title}`),
          100,
        )
        spin.unref()
        spinning++
      } else output.log(`${color.cyan('•')} ${title}`)
      return (ok, detail) => {
        if (spin) {
          clearInterval(spin)
          spinning--
          process.stderr.write('\r\x1b[2K')
        }
        const ms = Date.now() - (started.get(title) ?? Date.now())
        const mark = ok ? color.green('✔') : color.red('✖')
        output.log(
          `${mark} ${title}${detail ? ` — ${detail}` : ''} ${color.dim(`(${(ms / 1000).toFixed(1)} s)`)}`,
        )
      }
    },
  }
  return output
}
