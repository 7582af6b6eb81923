// Rule files and directories → one RuleSet: `.yml`/`.yaml` are Sigma, Falco rule files or Splunk ESCU
// detections (told apart by content), `.spl` one SPL search each.
// Every file is read and compiled before failing, so all problems are reported together.

import { existsSync, statSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, extname, join } from 'node:path'
import { type Issue, PurpleError, ValidationError } from '../errors.js'
import { isFalcoRuleFile, loadFalcoRules } from './falco/index.js'
import { parseSigma } from './sigma/index.js'
import { compileEscuDetection } from './spl/escu.js'
import { loadMacros, parseSpl, type SplContext } from './spl/index.js'
import type { CompiledRule, CorrelationRule, RuleSet } from './types.js'

const SIGMA_EXTENSIONS = new Set(['.yml', '.yaml'])
const SPL_EXTENSIONS = new Set(['.spl'])

interface RuleFile {
  path: string
  text: string
  language: 'sigma' | 'spl'
}

// Loads every rule under `paths` (files, or directories searched recursively, in sorted order).
export async function loadRules(
  paths: readonly string[],
  options: { macros?: readonly string[] } = {},
): Promise<RuleSet & { files: string[] }> {
  const issues: Issue[] = []
  const spl = splContext(options.macros ?? [])
  const files = await ruleFiles(paths, issues)
  if (files.length === 0 && issues.length === 0) {
    throw new PurpleError(
      'PURPLE_INPUT_NOT_FOUND',
      `no rule files (.yml, .yaml, .spl) in ${paths.join(', ')}`,
    )
  }
  const rules: CompiledRule[] = []
  const correlations: CorrelationRule[] = []
  const known = new Map<string, CompiledRule>()
  const origin = new Map<string, string>()
  // Falco rule files (YAML lists of rule/macro/list items) compile together: they share lists and macros.
  const [falco, others] = splitFalcoFiles(files)
  if (falco.length) {
    const set = loadFalcoRules(falco)
    issues.push(...set.issues)
    for (const rule of set.rules) {
      const first = origin.get(rule.id)
      if (first !== undefined)
        issues.push(issue(rule.file, 'rule', `duplicate rule id '${rule.id}' (also defined in ${first})`))
      origin.set(rule.id, rule.file)
      rules.push(rule)
      known.set(rule.id, rule)
    }
  }
  // Base rules first, so correlations can reference rules defined in other files.
  for (const file of orderForCorrelations(others)) {
    const set = compileFile(file, known, issues, spl)
    if (!set) continue
    for (const item of [...set.rules, ...set.correlations]) {
      const first = origin.get(item.id)
      if (first !== undefined && first !== file.path) {
        issues.push(issue(file.path, 'id', `duplicate rule id '${item.id}' (also defined in ${first})`))
        continue
      }
      origin.set(item.id, file.path)
    }
    for (const rule of set.rules) {
      if (origin.get(rule.id) !== file.path) continue
      rules.push(rule)
      known.set(rule.id, rule)
    }
    for (const [name, id] of set.names ?? []) {
      const rule = known.get(id)
      if (rule && !known.has(name)) known.set(name, rule)
    }
    correlations.push(...set.correlations.filter((c) => origin.get(c.id) === file.path))
  }
  if (issues.length > 0) throw new ValidationError(issues)
  return { rules, correlations, files: files.map((f) => f.path) }
}

/** The user's macros, and the lookups directory beside them (`<macros dir>/lookups` or `../lookups`). */
function splContext(macroPaths: readonly string[]): SplContext {
  if (macroPaths.length === 0) return {}
  const first = macroPaths[0] as string
  const dir = statSync(first, { throwIfNoEntry: false })?.isDirectory() ? first : dirname(first)
  const lookupsDir = [join(dir, 'lookups'), join(dir, '..', 'lookups')].find((d) => existsSync(d))
  return { macros: loadMacros(macroPaths), ...(lookupsDir ? { lookupsDir } : {}) }
}

async function ruleFiles(paths: readonly string[], issues: Issue[]): Promise<RuleFile[]> {
  const missing: string[] = []
  const found: RuleFile[] = []
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined)
    if (!info) missing.push(path)
    else if (info.isDirectory()) found.push(...(await readRuleDir(path)))
    else {
      const language = languageOf(path)
      if (language) found.push({ path, text: await readFile(path, 'utf8'), language })
      else issues.push(issue(path, '(file)', 'not a rule file: expected .yml, .yaml (Sigma) or .spl (SPL)'))
    }
  }
  if (missing.length > 0) {
    throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `rules path not found: ${missing.join(', ')}`, {
      hint: 'pass rule files or directories that exist',
    })
  }
  // The same file named twice (directly and through its directory) is loaded once.
  const seen = new Set<string>()
  return found.filter((f) => !seen.has(f.path) && seen.add(f.path))
}

async function readRuleDir(dir: string): Promise<RuleFile[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const out: RuleFile[] = []
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await readRuleDir(path)))
    else {
      const language = languageOf(entry.name)
      if (language && entry.isFile()) out.push({ path, text: await readFile(path, 'utf8'), language })
    }
  }
  return out
}

function languageOf(path: string): RuleFile['language'] | undefined {
  const ext = extname(path).toLowerCase()
  if (SIGMA_EXTENSIONS.has(ext)) return 'sigma'
  if (SPL_EXTENSIONS.has(ext)) return 'spl'
  return undefined
}

/** [Falco rule files, all other files], each in the given order. */
function splitFalcoFiles(files: readonly RuleFile[]): [RuleFile[], RuleFile[]] {
  const isFalco = (f: RuleFile) => f.language === 'sigma' && isFalcoRuleFile(f.text)
  return [files.filter(isFalco), files.filter((f) => !isFalco(f))]
}

/** Compiles one file, turning its PurpleErrors into issues (anything else is a bug and propagates). */
function compileFile(
  file: RuleFile,
  known: ReadonlyMap<string, CompiledRule>,
  issues: Issue[],
  spl: SplContext,
): (RuleSet & { names?: [string, string][] }) | undefined {
  try {
    if (file.language === 'spl') return { rules: [parseSpl(file.text, file.path, spl)], correlations: [] }
    if (isEscuDetection(file.text))
      return { rules: [compileEscuDetection(file.text, file.path, spl)], correlations: [] }
    return parseSigma(file.text, file.path, known)
  } catch (error) {
    if (error instanceof ValidationError) issues.push(...error.issues)
    else if (error instanceof PurpleError) issues.push(issue(file.path, '(file)', error.message, error.code))
    else throw error
    return undefined
  }
}

/** A Splunk security_content detection (run as written): a top-level `search:` and no Sigma `detection:`. */
export function isEscuDetection(text: string): boolean {
  return /^search:/m.test(text) && /^name:/m.test(text) && !/^detection:/m.test(text)
}

/** Files without a Sigma `correlation:` document first (stable otherwise). */
function orderForCorrelations(files: readonly RuleFile[]): RuleFile[] {
  const hasCorrelation = (f: RuleFile) => f.language === 'sigma' && /^correlation\s*:/m.test(f.text)
  return [...files.filter((f) => !hasCorrelation(f)), ...files.filter(hasCorrelation)]
}

function issue(
  file: string,
  path: string,
  message: string,
  code: Issue['code'] = 'PURPLE_RULE_INVALID',
): Issue {
  return { file, path, message, code }
}
