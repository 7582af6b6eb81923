import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { auditPolicyFile, packageRoot } from '../../../src/lab/assets.js'
import { coverageGaps, loadPolicy } from '../../../src/lab/existing/policy.js'

describe('the shared audit policy', () => {
  it('lives outside kind/ (every provider uses it), ships in the package and covers what steps need', () => {
    const rel = relative(packageRoot(), auditPolicyFile())
    expect(rel).toBe('lab/audit-policy.yaml')
    const files: string[] = JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')).files
    expect(files.some((f) => rel.startsWith(`${f}/`))).toBe(true)
    expect(coverageGaps(loadPolicy(auditPolicyFile()))).toEqual([])
  })
})
