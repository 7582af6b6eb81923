// The registry of lab providers: the one list of what `--env` accepts, the order `--env auto` tries,
// and the context names the safety guard recognises as labs. Providers are loaded lazily, so modules a
// provider itself imports (the safety guard) can read this list without an import cycle.
import { PurpleError } from '../errors.js'
import type { ExistingProviderOptions } from './existing/index.js'
import type { LabProvider, ProviderName } from './provider.js'

export interface ProviderOptions {
  /** `--env existing`: the cluster and its audit log, from run flags. */
  existing?: ExistingProviderOptions
}

export interface ProviderDescriptor {
  readonly name: ProviderName
  readonly summary: string
  /** `--env auto` tries providers by rank, lowest first; none: used only when named. */
  readonly autoRank?: number
  /** Why `--env auto` picked it, as printed. */
  readonly autoReason?: string
  /** Context names its labs get; the guard accepts them only with an apiserver on a lab address. */
  readonly contextPatterns: readonly RegExp[]
  /** Managed by `purplekind lab build|up|down|status` (an existing cluster is not). */
  readonly managed: boolean
  load(options: ProviderOptions): Promise<LabProvider>
}

export const LAB_PROVIDERS: readonly ProviderDescriptor[] = [
  {
    name: 'kind',
    summary: 'kind cluster on the local node image: real pods, NetworkPolicy',
    autoRank: 1,
    autoReason: 'Docker works and a kind node image is present',
    contextPatterns: [/^kind-purplekind/],
    managed: true,
    load: async () => (await import('./kind/index.js')).kindProvider,
  },
  {
    name: 'local',
    summary: 'local control plane (etcd, kube-apiserver, kwok): simulated pods',
    autoRank: 2,
    contextPatterns: [/^purplekind-/],
    managed: true,
    load: async () => (await import('./local/index.js')).localProvider,
  },
  {
    name: 'existing',
    summary: 'a cluster you name (--kubeconfig, --context, --allow-context, --audit-log)',
    contextPatterns: [],
    managed: false,
    load: async (o) => {
      if (!o.existing)
        throw new PurpleError('PURPLE_USAGE', '--env existing needs --kubeconfig and --context')
      return (await import('./existing/index.js')).createExistingProvider(o.existing)
    },
  },
]

export function providerDescriptor(name: string): ProviderDescriptor | undefined {
  return LAB_PROVIDERS.find((p) => p.name === name)
}

/** Every context-name pattern of a purplekind lab (the safety guard's first test). */
export function labContextPatterns(): RegExp[] {
  return LAB_PROVIDERS.flatMap((p) => [...p.contextPatterns])
}

/** Providers by name, loaded (`existing` only when its options are given). */
export async function loadProviders(
  options: ProviderOptions = {},
  filter: (d: ProviderDescriptor) => boolean = () => true,
): Promise<Partial<Record<ProviderName, LabProvider>>> {
  const out: Partial<Record<ProviderName, LabProvider>> = {}
  for (const d of LAB_PROVIDERS) {
    if (!filter(d) || (d.name === 'existing' && !options.existing)) continue
    out[d.name] = await d.load(options)
  }
  return out
}
