// A cluster the harness did not create. Used only when the user names its context with --allow-context,
// and only after the preflight proves the audit trail works. Nothing is created by `up`, so nothing is
// deleted by `down`; run objects are labelled and removed by the run itself (and by sweep).
import { existsSync } from 'node:fs'
import { PurpleError } from '../../errors.js'
import { KubeApi } from '../../kube/api.js'
import { AuditLogTailCollector } from '../audit-receiver.js'
import type { Lab, LabProvider, TelemetryCollector } from '../provider.js'
import { assertSafeContext } from '../safety.js'
import { kubectlBinDir } from './kubectl.js'
import { loadPolicy } from './policy.js'
import { type PreflightCheck, preflight } from './preflight.js'

export interface ExistingProviderOptions {
  kubeconfig: string
  context: string
  /** Contexts the user allowed by name (`--allow-context`); `context` must be one of them. */
  allowContexts: readonly string[]
  iKnowThisIsNotALab?: boolean
  /** Where the audit events come from: the apiserver's JSON audit log, or a collector (e.g. a webhook receiver). */
  audit: { logFile: string } | { collector: TelemetryCollector }
  /** The apiserver's --audit-policy-file, for the static coverage check. */
  policyFile?: string
  probeTimeoutMs?: number
}

export function createExistingProvider(options: ExistingProviderOptions): LabProvider & {
  lastPreflight(): readonly PreflightCheck[]
} {
  let checks: readonly PreflightCheck[] = []
  const allowed = () => options.allowContexts.includes(options.context)
  return {
    name: 'existing',

    async available() {
      if (!existsSync(options.kubeconfig))
        return { ok: false, reason: `kubeconfig ${options.kubeconfig} does not exist` }
      if (!allowed())
        return {
          ok: false,
          reason: `context '${options.context}' is used only with --allow-context ${options.context}`,
        }
      return { ok: true }
    },

    async up({ log }) {
      // Named permission is required even for a context that looks like a lab: this provider's contract.
      if (!allowed()) {
        throw new PurpleError(
          'PURPLE_CONTEXT_REFUSED',
          `context '${options.context}' was not allowed by name`,
          {
            hint: `pass --allow-context ${options.context} to run against this cluster`,
          },
        )
      }
      const safe = assertSafeContext({
        kubeconfig: options.kubeconfig,
        context: options.context,
        allowContexts: options.allowContexts,
      })
      const collector = auditCollector(options.audit)
      checks = await preflight({
        api: KubeApi.fromKubeconfig(options.kubeconfig, safe.context),
        context: safe.context,
        audit: collector,
        ...(options.policyFile
          ? { policy: loadPolicy(options.policyFile), policyFile: options.policyFile }
          : {}),
        probeTimeoutMs: options.probeTimeoutMs ?? 10_000,
        iKnowThisIsNotALab: options.iKnowThisIsNotALab ?? false,
      })
      for (const check of checks) log(`preflight: ${check.name}: ${check.detail}`)
      const binDir = await kubectlBinDir(log)
      return { ...labFor(options, safe.server, collector), ...(binDir ? { binDir } : {}) }
    },

    async down({ log }) {
      log(`existing: context ${options.context} was not created by purplekind; nothing to tear down`)
    },

    async status() {
      return { running: allowed(), detail: `existing cluster, context ${options.context}` }
    },

    lastPreflight: () => checks,
  }
}

/** Placeholder registered under `--env existing` when no --allow-context was given: never available. */
export const existingProvider: LabProvider = {
  name: 'existing',
  async available() {
    return { ok: false, reason: 'an existing cluster is used only when named with --allow-context <context>' }
  },
  async up() {
    throw new PurpleError('PURPLE_CONTEXT_REFUSED', 'no existing cluster was allowed', {
      hint: 'pass --allow-context <context> (and --audit-log <file> or a webhook receiver)',
    })
  },
  async down() {},
  async status() {
    return { running: false, detail: 'no existing cluster allowed' }
  },
}

function auditCollector(audit: ExistingProviderOptions['audit']): TelemetryCollector {
  if ('collector' in audit) return audit.collector
  if (!existsSync(audit.logFile)) {
    throw new PurpleError('PURPLE_PREFLIGHT_FAILED', `audit log ${audit.logFile} does not exist`, {
      hint: 'give the path the apiserver writes with --audit-log-path (readable from this machine)',
    })
  }
  return new AuditLogTailCollector({ file: audit.logFile })
}

function labFor(options: ExistingProviderOptions, server: string, collector: TelemetryCollector): Lab {
  return {
    provider: 'existing',
    name: options.context,
    kubeconfig: options.kubeconfig,
    context: options.context,
    // NetworkPolicy enforcement is unknown here, and there is no IMDS decoy: steps needing one must not run.
    capabilities: { realPods: true, networkPolicy: false, docker: false },
    collectors: [collector],
    decoys: {},
    manifest: {
      'existing.server': server,
      'audit.source': 'logFile' in options.audit ? `log ${options.audit.logFile}` : 'collector',
      ...(options.policyFile ? { 'audit.policyFile': options.policyFile } : {}),
    },
  }
}
