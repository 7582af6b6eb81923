// Chooses the lab provider for `--env`. `auto` prefers kind (real pods, NetworkPolicy) when its
// availability probe passes — kind, a working Docker, a local node image (purplekind builds its own:
// `purplekind lab build --env kind`) — and otherwise the local control plane (simulated pods). The returned reason is printed by the CLI, so the choice is never silent.
import { PurpleError } from '../errors.js'
import type { LabProvider, ProviderName } from './provider.js'
import { LAB_PROVIDERS } from './registry.js'

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
  // In rank order (the registry's); the first available wins, and says why the ones before it did not.
  const ranked = LAB_PROVIDERS.filter((d) => d.autoRank !== undefined).sort(
    (a, b) => (a.autoRank ?? 0) - (b.autoRank ?? 0),
  )
  const passed: string[] = []
  for (const d of ranked) {
    const provider = providers[d.name]
    const probe = provider
      ? await provider.available()
      : { ok: false, reason: `${d.name} provider not registered` }
    if (provider && probe.ok) {
      const why = passed.length
        ? passed.map((p) => p.replace(/^(\S+): /, '$1 unavailable: ')).join('; ')
        : (d.autoReason ?? 'available')
      return { provider, reason: `auto: ${d.name} (${why})` }
    }
    passed.push(`${d.name}: ${probe.reason ?? 'unavailable'}`)
  }
  throw new PurpleError(
    'PURPLE_PROVIDER_UNAVAILABLE',
    `--env auto: no lab can run here — ${passed.join('; ')}`,
    {
      hint: 'see docs/kind.md for kind, or build the local lab binaries with lab/assets/build.sh',
    },
  )
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
