import { getField } from '../event.js'
import { defineSource, str } from '../source.js'
import { normalizeK8sAudit } from '../sources/k8s-audit.js'

export const k8sAuditSource = defineSource({
  name: 'k8s-audit',
  normalize: normalizeK8sAudit,
  sniff: (r) => {
    const apiVersion = typeof r.apiVersion === 'string' ? r.apiVersion : ''
    return apiVersion.startsWith('audit.k8s.io/') || (r.auditID !== undefined && r.verb !== undefined)
  },
  // The effective identity (impersonated, else authenticated) is the step's actor; harness traffic never counts.
  attribute: (e, a, ctx) => {
    if (e.auditID && ctx.ignoreAuditIDs.has(e.auditID)) return false
    const who = getField(e, 'impersonatedUser.username') ?? getField(e, 'user.username')
    return who === a.identity
  },
  excerpt: (e) => {
    const user = str(getField(e, 'user.username'))
    const imp = str(getField(e, 'impersonatedUser.username'))
    const who = imp ? `${user} as ${imp}` : user
    return `${str(getField(e, 'verb'))} ${str(getField(e, 'requestURI'))} by ${who} → ${str(getField(e, 'responseStatus.code'))} [${str(getField(e, 'stage'))}] ua=${str(getField(e, 'userAgent')).slice(0, 60)}`
  },
  logsources: [{ product: 'kubernetes', service: ['audit'], category: ['audit'] }],
})
