// Reads a telemetry fixture file line by line through the real parser, as the CLI does.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { SourceName, TelemetryEvent } from '../../../src/telemetry/event.js'
import { type NormalizeContext, parseLine } from '../../../src/telemetry/normalize.js'

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/telemetry/${name}`, import.meta.url))
}

export function fixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8')
}

export function readEvents(
  name: string,
  source: SourceName,
  ctx: Omit<NormalizeContext, 'origin'> = {},
): TelemetryEvent[] {
  return fixtureText(name)
    .split('\n')
    .flatMap((line, i) => parseLine(line, source, { ...ctx, origin: { file: name, line: i + 1 } }))
}
