// Standalone IMDS decoy, for running inside the lab's network namespace:
//   node dist/lab/decoys/imds-main.js --host 169.254.169.254 --port 80 --canary-file F [--require-v2]
// F is the JSON of a canary set (makeCanaries). Prints `{"listening":url}` once ready, then one JSON line
// per request; exits on SIGTERM/SIGINT.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { PurpleError } from '../../errors.js'
import type { Canaries } from './canaries.js'
import { imdsCredentials, startImds } from './imds.js'

function fail(message: string): never {
  process.stderr.write(`✖ ${message} [PURPLE_USAGE]\n`)
  process.exit(2)
}

function loadCanaries(file: string): Canaries {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    fail(`${file}: cannot read canary file: ${(err as Error).message}`)
  }
  const c = parsed as Partial<Canaries>
  for (const field of [
    'awsSessionAccessKeyId',
    'awsSessionSecretAccessKey',
    'awsSessionToken',
    'awsRoleName',
  ] as const) {
    if (typeof c[field] !== 'string' || !c[field]) fail(`${file}:${field}: missing or not a string`)
  }
  return c as Canaries
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '169.254.169.254' },
      port: { type: 'string', default: '80' },
      'canary-file': { type: 'string' },
      role: { type: 'string' },
      'require-v2': { type: 'boolean', default: false },
    },
  })
  const file = values['canary-file'] ?? fail('--canary-file is required')
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: not a port number: ${values.port}`)
  const canaries = loadCanaries(file)
  const decoy = await startImds({
    host: values.host,
    port,
    canary: imdsCredentials(canaries),
    role: values.role ?? canaries.awsRoleName,
    requireV2: values['require-v2'],
    onRequest: (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  })
  process.stdout.write(`${JSON.stringify({ listening: decoy.url })}\n`)
  const stop = () => void decoy.stop().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err: unknown) => {
  const code = err instanceof PurpleError ? err.code : 'PURPLE_INTERNAL'
  process.stderr.write(`✖ ${(err as Error).message} [${code}]\n`)
  process.exit(1)
})
