import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { validateXML } from 'xmllint-wasm'
import { renderJunit } from '../../../src/report/junit.js'
import { runResult } from '../../fixtures/report/run-result.js'

// junit.xml against the strict schema Jenkins' xunit plugin uses (schemas/junit-10.xsd), checked by
// libxml2's own validator (xmllint compiled to WebAssembly), not by our parser.
const xsd = await readFile('schemas/junit-10.xsd', 'utf8')

async function validate(xml: string) {
  return validateXML({
    xml: [{ fileName: 'junit.xml', contents: xml }],
    schema: [{ fileName: 'junit-10.xsd', contents: xsd }],
  })
}

describe('junit.xml against the strict JUnit XSD', () => {
  it('validates, with skipped, failed and passed cases', async () => {
    const r = await validate(renderJunit(runResult()))
    expect(r.errors).toEqual([])
    expect(r.valid).toBe(true)
  })

  it('validates hostile text (markup, CDATA terminators, control characters)', async () => {
    const nasty = runResult()
    nasty.steps[3]!.title = `<tag attr="x"> & 'quoted' \u0001 ]]> end`
    nasty.steps[3]!.output = 'out ]]> \u0000\uD800'
    expect((await validate(renderJunit(nasty))).valid).toBe(true)
  })

  it('is a real check: rejects what the old report did (timestamp on testsuites, properties in a testcase)', async () => {
    const good = renderJunit(runResult())
    const stamped = good.replace('<testsuites ', '<testsuites timestamp="2026-01-01T12:00:00Z" ')
    const r1 = await validate(stamped)
    expect(r1.valid).toBe(false)
    expect(r1.errors.map((e) => e.message).join('\n')).toMatch(/timestamp/)
    const props = good.replace(
      /(<testcase [^>]*>)/,
      '$1<properties><property name="verdict" value="DETECTED"/></properties>',
    )
    expect((await validate(props)).valid).toBe(false)
    expect((await validate(good.replace(/ time="150.000"/, ' time="2m"'))).valid).toBe(false)
  })
})
