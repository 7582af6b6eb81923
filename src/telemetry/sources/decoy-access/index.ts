// `decoy-access`: the requests the run's cloud decoys served (AWS via moto's recorder, Azure, IMDS).
// It proves a stolen credential was actually used against a cloud API, which no cluster log shows.
import { getField } from '../../event.js'
import { defineSource, str } from '../../source.js'
import { normalizeDecoyAccess } from './normalize.js'

export { decoyAccessCollector } from './collector.js'

const CLOUD_CLIS = new Set(['aws', 'az'])

export const decoyAccessSource = defineSource({
  name: 'decoy-access',
  normalize: normalizeDecoyAccess,
  sniff: (r) => typeof r.decoy === 'string' && r.method !== undefined && r.path !== undefined,
  // In the step's window and, when the step knows the credential it presented, that credential. A cloud
  // CLI run on the host, or a command exec'd in a pod (its credentials come from IMDS), by window alone.
  attribute: (e, a) => {
    const used = e.raw.credential
    if (a.credentials?.length) return typeof used === 'string' && a.credentials.includes(used)
    return CLOUD_CLIS.has(a.tool) || (a.tool === 'kubectl' && (a.targets?.length ?? 0) > 0)
  },
  excerpt: (e) => {
    const what = [getField(e, 'service'), getField(e, 'action')].filter(Boolean).join(' ')
    const cred = getField(e, 'credential')
    return `${str(getField(e, 'decoy'))} ${str(getField(e, 'method'))} ${str(getField(e, 'path')).slice(0, 80)}${what ? ` (${what})` : ''}${cred ? ` with ${getField(e, 'canary') ? 'canary ' : ''}credential ${str(cred)}` : ''} → ${str(getField(e, 'status'))}`
  },
  logsources: [{ product: 'purplekind', service: ['decoy-access', 'decoy_access'] }],
})
