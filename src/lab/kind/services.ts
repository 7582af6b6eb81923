// The host-side services a kind lab needs, bound to the lab network's gateway so the apiserver (audit
// webhook) and pods (IMDS redirect) reach them: the audit webhook receiver and the IMDS decoy.

import { PurpleError } from '../../errors.js'
import type { Decoys, TelemetryCollector } from '../provider.js'
import type { DecoyAddress } from './imds.js'

export interface KindLabServices {
  /** What the webhook kubeconfig needs, plus the collector that delivers the received events. */
  audit: { url: string; caPem: string; token: string; collector: TelemetryCollector }
  /** Where the node DNAT sends 169.254.169.254:80. */
  imds: DecoyAddress
  decoys: Decoys
  stop(): Promise<void>
}

export interface StartServicesOptions {
  /** Address to bind: the lab docker network's gateway. */
  host: string
  /** Lab directory; services keep their PKI/token/port here so a reused cluster finds them again. */
  stateDir: string
  log: (line: string) => void
}

export type StartKindServices = (options: StartServicesOptions) => Promise<KindLabServices>

/**
 * TODO(wiring): src/lab/audit-receiver.ts (HTTPS webhook receiver with the lab CA + bearer token) and
 * src/lab/decoys/imds.ts are written by other engineers and had not landed when this provider was
 * written. Replace this body with: start the receiver on `host` (port and PKI persisted in `stateDir`),
 * start the IMDS decoy on `host`, and return their addresses. Until then `kind up` fails here, clearly.
 */
export const startKindServices: StartKindServices = async () => {
  throw new PurpleError(
    'PURPLE_LAB_FAILED',
    'the kind lab cannot start: the audit receiver and IMDS decoy are not wired in',
    {
      hint: 'see the TODO in src/lab/kind/services.ts',
    },
  )
}
