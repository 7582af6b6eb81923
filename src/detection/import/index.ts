// `purplekind import`: picks, from a user's checkout of public detection content, the rules for a
// technique or a data source, and copies their files unchanged (converting nothing) so they run as
// written: SigmaHQ `rules/`, Splunk ESCU `detections/` with the `macros/` they use, or a Falco rules
// file (kept whole, with a selection file that switches the other rules off through Falco's own
// `override: {enabled: replace}`).
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative } from 'node:path'
import { parseAllDocuments, parseDocument, stringify } from 'yaml'
import { PurpleError } from '../../errors.js'
import type { SourceName } from '../../telemetry/event.js'
import { isFalcoRuleFile } from '../falco/index.js'
import { parseSigma } from '../sigma/index.js'

export type ContentKind = 'sigma' | 'escu' | 'falco'

export interface ImportFilter {
  /** ATT&CK technique id, e.g. `T1552.007`; a technique also selects its sub-techniques. */
  technique?: string
  /** purplekind telemetry source the rules must read, e.g. `k8s-audit`. */
  source?: SourceName
}

export interface SelectedRule {
  file: string
  rule: string
  title: string
}

export interface Selection {
  kind: ContentKind
  root: string
  rules: SelectedRule[]
  /** Files to copy (rule files, and for ESCU the macro files the searches use), relative to root. */
  files: string[]
  /** Falco: the rule names left enabled (all others are switched off by the selection file). */
  falcoKeep?: string[]
  /** Files that could not be read as rules, with the reason (never silently dropped). */
  skipped: { file: string; reason: string }[]
}

/** ESCU `data_source` names → purplekind sources. */
const ESCU_SOURCES: Record<string, SourceName> = { 'kubernetes audit': 'k8s-audit' }
const FALCO_SOURCES: Record<string, SourceName> = { k8s_audit: 'k8s-audit' }

export async function selectContent(
  path: string,
  filter: ImportFilter,
  kind?: ContentKind,
): Promise<Selection> {
  if (!filter.technique && !filter.source) {
    throw new PurpleError('PURPLE_USAGE', 'import needs --technique and/or --source to select rules')
  }
  const info = await stat(path).catch(() => undefined)
  if (!info) throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `content checkout not found: ${path}`)
  const detected = kind ?? (await detectKind(path, info.isDirectory()))
  switch (detected) {
    case 'falco':
      return selectFalco(path, info.isDirectory(), filter)
    case 'escu':
      return selectEscu(path, filter)
    case 'sigma':
      return selectSigma(path, filter)
  }
}

async function detectKind(path: string, isDir: boolean): Promise<ContentKind> {
  if (!isDir) {
    if (isFalcoRuleFile(await readFile(path, 'utf8'))) return 'falco'
    throw new PurpleError(
      'PURPLE_USAGE',
      `${path}: not a Falco rules file; pass a SigmaHQ or ESCU checkout directory`,
    )
  }
  if (existsSync(join(path, 'detections')) && existsSync(join(path, 'macros'))) return 'escu'
  return 'sigma'
}

/** ATT&CK tag forms (`attack.t1552.007`, `T1552.007`) → whether they name the technique or a sub-technique. */
export function tagMatches(tag: string, technique: string): boolean {
  const t = tag.toLowerCase().replace(/^attack\./, '')
  const want = technique.toLowerCase()
  return t === want || t.startsWith(`${want}.`)
}

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const out: string[] = []
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await yamlFiles(p)))
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p)
  }
  return out
}

// ---- SigmaHQ ----

async function selectSigma(root: string, filter: ImportFilter): Promise<Selection> {
  const dir = existsSync(join(root, 'rules')) ? join(root, 'rules') : root
  const sel: Selection = { kind: 'sigma', root, rules: [], files: [], skipped: [] }
  for (const file of await yamlFiles(dir)) {
    const text = await readFile(file, 'utf8')
    if (!/^detection\s*:/m.test(text)) continue
    let rules: ReturnType<typeof parseSigma>['rules']
    try {
      rules = parseSigma(text, file).rules
    } catch (error) {
      // Only report files that would have been selected: a checkout has thousands of other rules.
      if (sigmaMightMatch(text, filter))
        sel.skipped.push({ file: relative(root, file), reason: firstLine(error) })
      continue
    }
    const hits = rules.filter(
      (r) =>
        (!filter.technique || r.tags.some((t) => tagMatches(t, filter.technique!))) &&
        (!filter.source || (r.sources?.includes(filter.source) ?? false)),
    )
    if (!hits.length) continue
    sel.files.push(relative(root, file))
    for (const r of hits) sel.rules.push({ file: relative(root, file), rule: r.id, title: r.title })
  }
  return sel
}

function sigmaMightMatch(text: string, filter: ImportFilter): boolean {
  if (filter.technique && !text.toLowerCase().includes(filter.technique.toLowerCase())) return false
  if (filter.source === 'k8s-audit' && !/kubernetes/i.test(text)) return false
  return true
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!
}

// ---- Splunk ESCU ----

async function selectEscu(root: string, filter: ImportFilter): Promise<Selection> {
  const sel: Selection = { kind: 'escu', root, rules: [], files: [], skipped: [] }
  const macros = await escuMacros(join(root, 'macros'))
  const needed = new Set<string>()
  for (const file of await yamlFiles(join(root, 'detections'))) {
    const doc = parseDocument(await readFile(file, 'utf8'))
    const d = doc.errors.length ? undefined : (doc.toJS() as Record<string, unknown> | null)
    if (!d || typeof d.search !== 'string') {
      if (doc.errors.length) sel.skipped.push({ file: relative(root, file), reason: doc.errors[0]!.message })
      continue
    }
    const tags = (d.tags ?? {}) as Record<string, unknown>
    const ids = Array.isArray(tags.mitre_attack_id) ? tags.mitre_attack_id.map(String) : []
    const sources = (Array.isArray(d.data_source) ? d.data_source : []).map(
      (s) => ESCU_SOURCES[String(s).toLowerCase()],
    )
    if (filter.technique && !ids.some((t) => tagMatches(t, filter.technique!))) continue
    if (filter.source && !sources.includes(filter.source)) continue
    sel.files.push(relative(root, file))
    sel.rules.push({
      file: relative(root, file),
      rule: String(d.id ?? basename(file)),
      title: String(d.name ?? basename(file)),
    })
    for (const m of macroNames(d.search)) needed.add(m)
  }
  // Macros may use macros: follow them (each once).
  const queue = [...needed]
  const seen = new Set<string>()
  while (queue.length) {
    const name = queue.pop()!
    if (seen.has(name)) continue
    seen.add(name)
    const m = macros.get(name)
    if (!m) {
      sel.skipped.push({
        file: `macros/${name}.yml`,
        reason: `macro \`${name}\` is used but not defined in macros/`,
      })
      continue
    }
    const rel = relative(root, m.file)
    if (!sel.files.includes(rel)) sel.files.push(rel)
    queue.push(...macroNames(m.definition))
  }
  return sel
}

/** Macro names used in a search: `` `name` `` or `` `name(args)` ``. */
export function macroNames(search: string): string[] {
  return [...search.matchAll(/`([A-Za-z0-9_]+)(?:\([^`]*\))?`/g)].map((m) => m[1]!)
}

async function escuMacros(dir: string): Promise<Map<string, { file: string; definition: string }>> {
  const out = new Map<string, { file: string; definition: string }>()
  if (!existsSync(dir)) return out
  for (const file of await yamlFiles(dir)) {
    const doc = parseDocument(await readFile(file, 'utf8'))
    const m = doc.errors.length ? undefined : (doc.toJS() as Record<string, unknown> | null)
    if (!m || typeof m.name !== 'string') continue
    // Macros taking arguments are named `name(n)`.
    out.set(m.name.replace(/\(\d+\)$/, ''), { file, definition: String(m.definition ?? '') })
  }
  return out
}

// ---- Falco ----

async function selectFalco(path: string, isDir: boolean, filter: ImportFilter): Promise<Selection> {
  const files = isDir ? await yamlFiles(path) : [path]
  const root = isDir ? path : dirname(path)
  const sel: Selection = { kind: 'falco', root, rules: [], files: [], falcoKeep: [], skipped: [] }
  for (const file of files) {
    const text = await readFile(file, 'utf8')
    if (!isFalcoRuleFile(text)) continue
    const [doc] = parseAllDocuments(text)
    const items = doc && !doc.errors.length ? (doc.toJS() as unknown) : undefined
    if (!Array.isArray(items)) {
      sel.skipped.push({ file: relative(root, file), reason: 'not a YAML list of Falco items' })
      continue
    }
    sel.files.push(relative(root, file))
    for (const item of items as Record<string, unknown>[]) {
      if (
        typeof item?.rule !== 'string' ||
        typeof item.condition !== 'string' ||
        item.override ||
        item.append
      )
        continue
      const tags = Array.isArray(item.tags) ? item.tags.map(String) : []
      const source = FALCO_SOURCES[String(item.source ?? 'syscall')]
      const keep =
        (!filter.technique || tags.some((t) => tagMatches(t, filter.technique!))) &&
        (!filter.source || source === filter.source)
      if (keep && !sel.falcoKeep!.includes(item.rule)) {
        sel.falcoKeep!.push(item.rule)
        sel.rules.push({ file: relative(root, file), rule: item.rule, title: item.rule })
      }
    }
  }
  return sel
}

/** Name of the generated Falco file that switches off the rules not selected (loaded last: `zz-`). */
export const FALCO_SELECTION_FILE = 'zz-purplekind-selection.yaml'

/**
 * Copies the selected files, byte for byte, under `out` (same relative paths). For Falco, also writes
 * the selection file disabling every other rule defined in the copied files.
 */
export async function writeSelection(sel: Selection, out: string): Promise<string[]> {
  const written: string[] = []
  for (const rel of sel.files) {
    const target = join(out, sel.kind, rel)
    await mkdir(dirname(target), { recursive: true })
    await copyFile(join(sel.root, rel), target)
    written.push(target)
  }
  if (sel.kind === 'falco') {
    const keep = new Set(sel.falcoKeep)
    const others = new Set<string>()
    for (const rel of sel.files) {
      const items = parseDocument(await readFile(join(sel.root, rel), 'utf8')).toJS() as Record<
        string,
        unknown
      >[]
      for (const item of items) {
        if (typeof item?.rule === 'string' && typeof item.condition === 'string' && !keep.has(item.rule))
          others.add(item.rule)
      }
    }
    if (others.size) {
      const body = [...others].map((rule) => ({ rule, enabled: false, override: { enabled: 'replace' } }))
      const header =
        '# Written by `purplekind import`: switches off the rules not selected; the rule files beside it are unmodified.\n'
      const target = join(out, 'falco', FALCO_SELECTION_FILE)
      await writeFile(target, header + stringify(body))
      written.push(target)
    }
  }
  return written
}
