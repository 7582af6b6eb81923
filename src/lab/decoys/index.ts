// Starts the cloud decoys for one run and hands back the lab's `Decoys` contract object, the run's canary
// credentials (with the AWS key minted by moto, see aws.ts) and a single stop().
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PurpleError } from '../../errors.js'
import type { RunJournal } from '../journal.js'
import type { Decoys } from '../provider.js'
import { type AwsDecoy, startAwsDecoy } from './aws.js'
import { type AzureDecoy, startAzureDecoy } from './azure.js'
import { type Canaries, canaryFingerprints, makeCanaries } from './canaries.js'
import { type ImdsDecoy, imdsCredentials, startImds } from './imds.js'
import { decoyLogDir } from './process.js'
import { createRunSecrets, runSecretsDir } from './run-secrets.js'

export interface RunDecoys {
  readonly decoys: Decoys
  readonly canaries: Canaries
  /** Field → fingerprint of every canary secret (safe to print and report). */
  readonly fingerprints: Record<string, string>
  /** The canary set as a 0600 JSON file, for `imds-main --canary-file` run inside the lab's netns. */
  readonly canaryFile: string
  readonly aws?: AwsDecoy
  readonly azure?: AzureDecoy
  readonly imds?: ImdsDecoy
  /** Decoy → why it could not start (steps needing it should be reported as not run, with this reason). */
  readonly unavailable: Record<string, string>
  stop(): Promise<void>
}

export interface StartDecoysOptions {
  runId: string
  log: (line: string) => void
  /** Where IMDS listens when started here (default 127.0.0.1, random port). */
  imdsHost?: string
  /** The lab runs IMDS itself (imds-main.js inside its network namespace): do not start it here. */
  imdsExternal?: boolean
  /** Loopback ports for moto and the Azure decoy (the lab bridges these into its sandbox); default: free ones. */
  awsPort?: number
  azurePort?: number
  /** The run journal: the secrets dir and moto are recorded before they exist (sweep after a SIGKILL). */
  journal?: Pick<RunJournal, 'record'>
}

export async function startDecoys(options: StartDecoysOptions): Promise<RunDecoys> {
  const { log } = options
  let canaries = makeCanaries(options.runId)
  // Every secret file of the run lives here (the Azure profile and CA key too), removed first on stop.
  options.journal?.record({ kind: 'path', path: runSecretsDir(decoyLogDir(), options.runId) })
  const secrets = createRunSecrets(decoyLogDir(), options.runId)
  const keep = process.env.PURPLEKIND_KEEP_CANARIES === '1'
  const unavailable: Record<string, string> = {}
  const why = (err: unknown) => (err instanceof PurpleError ? `${err.message} [${err.code}]` : String(err))

  const [aws, azure] = await Promise.all([
    startAwsDecoy({
      canaries,
      log,
      ...(options.awsPort ? { port: options.awsPort } : {}),
      ...(options.journal ? { journal: options.journal } : {}),
    }).catch((err: unknown) => {
      unavailable.aws = why(err)
      return undefined
    }),
    startAzureDecoy({
      canaries,
      log,
      stateDir: secrets.dir,
      ...(options.azurePort ? { port: options.azurePort } : {}),
    }).catch((err: unknown) => {
      unavailable.azure = why(err)
      return undefined
    }),
  ])
  const leaked = aws?.accessKeys[0]
  if (leaked)
    canaries = { ...canaries, awsAccessKeyId: leaked.accessKeyId, awsSecretAccessKey: leaked.secretAccessKey }

  // The canary values, 0600, for the IMDS decoy process run inside a lab namespace; removed with the run
  // unless PURPLEKIND_KEEP_CANARIES=1 (tests grep every output for the raw values with it; a forced quit
  // still removes them).
  const canaryFile = join(secrets.dir, 'canaries.json')
  writeFileSync(canaryFile, JSON.stringify(canaries), { mode: 0o600 })
  const stopStarted = () => Promise.all([aws?.stop(), azure?.stop()])

  let imds: ImdsDecoy | undefined
  if (!options.imdsExternal) {
    imds = await startImds({
      host: options.imdsHost ?? '127.0.0.1',
      port: 0,
      canary: imdsCredentials(canaries),
      role: canaries.awsRoleName,
    }).catch(async (err: unknown) => {
      // Nothing has the stop() yet: release what did start (moto, the Azure server, sinkholes).
      secrets.remove()
      await stopStarted()
      throw err
    })
    log(`imds decoy: ${imds.url} (role ${imds.role})`)
  }
  for (const [name, reason] of Object.entries(unavailable)) log(`decoy ${name} unavailable: ${reason}`)

  const decoys: Decoys = {
    ...(imds ? { imds: { url: imds.url, hostUrl: imds.url, role: imds.role } } : {}),
    ...(aws ? { aws: { endpoint: aws.endpoint, region: aws.region } } : {}),
    ...(azure ? { azure: { configDir: azure.configDir, endpoint: azure.endpoint, env: azure.env } } : {}),
  }
  let stopped: Promise<void> | undefined
  return {
    decoys,
    canaries,
    fingerprints: canaryFingerprints(canaries),
    canaryFile,
    ...(aws ? { aws } : {}),
    ...(azure ? { azure } : {}),
    ...(imds ? { imds } : {}),
    unavailable,
    stop() {
      if (keep) secrets.keep()
      else secrets.remove()
      stopped ??= Promise.all([aws?.stop(), azure?.stop(), imds?.stop()]).then(() => undefined)
      return stopped
    },
  }
}
