// Chooses the lab provider for `--env`. `auto` prefers kind (real pods, NetworkPolicy) when its
// availability probe passes — kind, a working Docker, a local node image (purplekind builds its own:
// `purplekind lab build --env kind`) — and otherwise the local control plane (simulated pods). The returned reason is printed by the CLI, so the choice is never silent.
import { PurpleError } from '../errors.js'
import type { LabProvider, ProviderName } from './provider.js'

export type EnvChoice = 'auto' | ProviderName

export interface ProviderChoice {
  provider: LabProvider
  reason: string
}

export async function chooseProvider(
  env: EnvChoice,
  providers: Partial<Record<ProviderName, LabProvider>>,
): Promise<ProviderChoice> {
  if (env !== 'auto') return explicit(env, providers)
  const kind = providers.kind
  const local = providers.local
  const kindProbe = kind ? await kind.available() : { ok: false, reason: 'kind provider not registered' }
  if (kind && kindProbe.ok)
    return { provider: kind, reason: 'auto: kind (Docker works and a kind node image is present)' }
  if (!local) {
    throw new PurpleError(
      'PURPLE_PROVIDER_UNAVAILABLE',
      `--env auto: kind is unavailable (${kindProbe.reason}) and no local provider is registered`,
    )
  }
  const localProbe = await local.available()
  if (!localProbe.ok) {
    throw new PurpleError(
      'PURPLE_PROVIDER_UNAVAILABLE',
      `--env auto: no lab can run here — kind: ${kindProbe.reason}; local: ${localProbe.reason}`,
      { hint: 'see docs/kind.md for kind, or build the local lab binaries with lab/assets/build.sh' },
    )
  }
  return { provider: local, reason: `auto: local (kind unavailable: ${kindProbe.reason})` }
}

async function explicit(
  env: ProviderName,
  providers: Partial<Record<ProviderName, LabProvider>>,
): Promise<ProviderChoice> {
  const provider = providers[env]
  if (!provider) throw new PurpleError('PURPLE_USAGE', `--env ${env}: no such provider is registered`)
  const probe = await provider.available()
  if (!probe.ok) {
    throw new PurpleError('PURPLE_PROVIDER_UNAVAILABLE', `--env ${env} is not available: ${probe.reason}`)
  }
  return { provider, reason: `--env ${env}` }
}
