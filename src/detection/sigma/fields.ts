// Per-event field cache shared by every compiled Sigma rule: a field is resolved with `getField` (and
// lower-cased) at most once per event, however many rules test it. Slots are indexed by a process-wide
// field id, so the hot path allocates nothing but the lower-cased strings themselves.
import { getField, type TelemetryEvent } from '../../telemetry/event.js'

const ids = new Map<string, number>()
const names: string[] = []
const valueGen: number[] = []
const values: unknown[] = []
const lowerGen: number[] = []
const lowers: string[] = []

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
    values[id] = resolve(names[id]!)
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
  return lowers[id]!
}

function resolve(name: string): unknown {
  const event = current!
  if (name === RAW_TEXT) return JSON.stringify(event.raw)
  return getField(event, name)
}
