import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseSpl } from '../../../../src/detection/spl/index.js'
import type { CompiledRule } from '../../../../src/detection/types.js'
import { PurpleError } from '../../../../src/errors.js'
import type { TelemetryEvent } from '../../../../src/telemetry/event.js'
import { normalize } from '../../../../src/telemetry/normalize.js'

export function ruleFile(name: string): CompiledRule {
  const path = fileURLToPath(new URL(`rules/${name}`, import.meta.url))
  return parseSpl(readFileSync(path, 'utf8'), `rules/${name}`)
}

export function rule(search: string): CompiledRule {
  return parseSpl(search, 'rules/inline.spl')
}

// A minimal but well-formed audit event with the given fields.
export function audit(fields: Record<string, unknown>): TelemetryEvent {
  const [event] = normalize('k8s-audit', {
    auditID: 'test',
    stageTimestamp: '2026-11-27T10:00:00.000000Z',
    user: { username: 'kubernetes-admin' },
    ...fields,
  })
  return event as TelemetryEvent
}

export function splError(search: string): PurpleError {
  try {
    rule(search)
  } catch (error) {
    if (error instanceof PurpleError) return error
    throw error
  }
  throw new Error(`expected ${JSON.stringify(search)} to be rejected`)
}
