// Per-event field cache shared by every compiled Sigma rule: a field is resolved with `getField` (and
// lower-cased) at most once per event, however many rules test it. Slots are indexed by a process-wide
// field id, so the hot path allocates nothing but the lower-cased strings themselves.
import { getField, type TelemetryEvent } from '../../telemetry/event.js'
import { type CompiledPath, compilePath, readPath } from './path.js'

const ids = new Map<string, number>()
const names: string[] = []
const paths: CompiledPath[] = []
const valueGen: number[] = []
const values: unknown[] = []
const lowerGen: number[] = []
const lowers: unknown[] = []

let current: TelemetryEvent | undefined
let generation = 0

/** Pseudo field holding the whole raw event as lower-cased JSON text (keyword selections). */
export const RAW_TEXT = '\u0000raw'

/** Registers `name` (once) and returns its slot. */
export function fieldId(name: string): number {
  let id = ids.get(name)
  if (id === undefined) {
    id = names.length
    ids.set(name, id)
    names.push(name)
    paths.push(compilePath(name))
    valueGen.push(-1)
    values.push(undefined)
    lowerGen.push(-1)
    lowers.push('')
  }
  return id
}

/** Makes `event` the one the cache answers for; cheap when it already is. */
export function useEvent(event: TelemetryEvent): void {
  if (event !== current) {
    current = event
    generation++
  }
}

export function fieldValue(id: number): unknown {
  if (valueGen[id] !== generation) {
    values[id] = resolve(id)
    valueGen[id] = generation
  }
  return values[id]
}

/** Lower-cased form of the field's string value `s` (which must be `fieldValue(id)`). */
export function lowerValue(id: number, s: string): string {
  if (lowerGen[id] !== generation) {
    lowers[id] = s.toLowerCase()
    lowerGen[id] = generation
  }
  return lowers[id] as string
}

/** The field's array value (which must be `fieldValue(id)`) with string elements lower-cased, nested too. */
export function lowerArray(id: number, a: readonly unknown[]): readonly unknown[] {
  if (lowerGen[id] !== generation) {
    lowers[id] = lowerDeep(a)
    lowerGen[id] = generation
  }
  return lowers[id] as unknown[]
}

function lowerDeep(a: readonly unknown[]): unknown[] {
  return a.map((v) => (typeof v === 'string' ? v.toLowerCase() : Array.isArray(v) ? lowerDeep(v) : v))
}

const ENVELOPE = new Set(['source', 'sourcetype', 'index', '_time'])

/** `getField` semantics; raw paths go through the compiled lookup (see path.ts). */
function resolve(id: number): unknown {
  const event = current!
  const name = names[id]!
  if (name === RAW_TEXT) return JSON.stringify(event.raw)
  if (name in event.derived || ENVELOPE.has(name)) return getField(event, name)
  return readPath(event.raw, paths[id]!)
}
