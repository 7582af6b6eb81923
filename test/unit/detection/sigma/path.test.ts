// The compiled field lookup must agree with telemetry/event.ts `getPath`/`getField` exactly.
import { describe, expect, it } from 'vitest'
import { compilePath, readPath } from '../../../../src/detection/sigma/path.js'
import { getPath } from '../../../../src/telemetry/event.js'
import { auditEvent, detectionRule, execImds } from './helpers.js'

/** Deterministic pseudo-random objects with dotted keys, arrays, nulls and prototype-like keys. */
function* objects(seed: number, count: number): Generator<Record<string, unknown>> {
  let x = seed
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648
    return x % n
  }
  const keys = ['a', 'b', 'a.b', 'b.c', 'a.b.c', 'c', 'toString', 'constructor']
  const make = (depth: number): unknown => {
    const kind = rnd(depth > 2 ? 3 : 6)
    if (kind === 0) return `v${rnd(100)}`
    if (kind === 1) return rnd(2) ? null : rnd(1000)
    if (kind === 2) return rnd(2) === 0
    if (kind === 3) return Array.from({ length: rnd(3) }, () => make(depth + 1))
    const o: Record<string, unknown> = {}
    for (let i = rnd(4); i >= 0; i--) o[keys[rnd(keys.length)]!] = make(depth + 1)
    return o
  }
  for (let i = 0; i < count; i++) {
    const o = make(0)
    yield typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : { a: o }
  }
}

const PATHS = [
  'a',
  'b',
  'a.b',
  'a.b.c',
  'a.b.c.a',
  'b.c.a.b',
  'c.a',
  'toString',
  'a.toString',
  'a.constructor.b',
  'x.y',
]

describe('compiled field paths', () => {
  it('agree with getPath on 2,000 generated objects', () => {
    let defined = 0
    for (const obj of objects(42, 2000)) {
      for (const p of PATHS) {
        const expected = getPath(obj, p)
        expect(readPath(obj, compilePath(p)), `${p} on ${JSON.stringify(obj)}`).toEqual(expected)
        if (expected !== undefined) defined++
      }
    }
    expect(defined).toBeGreaterThan(1000)
  })

  it('rules see derived fields before raw ones, as getField does', () => {
    const rule = detectionRule('sel:\n  verb: exec\n  Command|contains: curl\ncondition: sel')
    const event = {
      ...auditEvent(execImds()),
      derived: { verb: 'exec', Command: 'kubectl exec victim -- curl' },
    }
    expect(rule.match(event)).toBe(true)
    expect(rule.match(auditEvent(execImds()))).toBe(false)
  })

  it('rules can read envelope fields', () => {
    expect(
      detectionRule("sel:\n  sourcetype: 'kubernetes:api'\ncondition: sel").match(auditEvent(execImds())),
    ).toBe(true)
  })
})
