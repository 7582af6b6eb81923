import { writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { scenarioSchema } from './schema.js'

// The JSON Schema editors use (yaml-language-server: $schema=...); generated from the zod schema.
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://purplekind.io/schemas/scenario.schema.json',
    title: 'purplekind Scenario (purplekind.io/v1alpha1)',
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'schemas/scenario.schema.json'
  await writeFile(out, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`)
  console.log(`wrote ${out}`)
}
