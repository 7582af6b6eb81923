import { open, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { PurpleError } from '../errors.js'

/** Files `validate` was given, sorted into scenarios and detection rules. */
export interface ClassifiedInputs {
  scenarios: string[]
  rules: string[]
}

const YAML = /\.ya?ml$/i
const SPL = /\.spl$/i
/** Enough of a file to find its top-level keys; rule and scenario files put them near the top. */
const HEAD_BYTES = 64 * 1024

// Top-level keys only (anchored at a line start, no nesting), matched line by line: linear in the text.
const SCENARIO_MARK = /^(kind:[ \t]*Scenario[ \t]*$|apiVersion:[ \t]*['"]?purplekind\.io\/)/m
const SIGMA_MARK = /^(detection|logsource|correlation):/m
const FALCO_MARK = /^- (rule|macro|list|required_engine_version|required_plugin_versions):/m

/**
 * What a YAML text is: a scenario (its apiVersion/kind say so), a rule (Sigma's detection/logsource, a
 * Falco list of rule/macro/list items), or — when neither shows — a scenario, so a broken scenario still
 * gets the scenario loader's field-by-field errors.
 */
export function classifyYaml(head: string): 'scenario' | 'rule' {
  if (SCENARIO_MARK.test(head)) return 'scenario'
  if (SIGMA_MARK.test(head) || FALCO_MARK.test(head)) return 'rule'
  return 'scenario'
}

async function readHead(file: string): Promise<string> {
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.alloc(HEAD_BYTES)
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0)
    return buf.subarray(0, bytesRead).toString('utf8')
  } finally {
    await fh.close()
  }
}

async function classifyFile(file: string, out: ClassifiedInputs): Promise<void> {
  if (SPL.test(file)) out.rules.push(file)
  else out[classifyYaml(await readHead(file)) === 'rule' ? 'rules' : 'scenarios'].push(file)
}

/** Expands directories (recursively: .yml, .yaml, .spl) and sorts every file into scenarios or rules. */
export async function classifyInputs(paths: readonly string[]): Promise<ClassifiedInputs> {
  const out: ClassifiedInputs = { scenarios: [], rules: [] }
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined)
    if (!st) throw new PurpleError('PURPLE_INPUT_NOT_FOUND', `${p}: no such file or directory`)
    if (!st.isDirectory()) {
      await classifyFile(p, out)
      continue
    }
    const entries = await readdir(p, { recursive: true, withFileTypes: true })
    const files = entries
      .filter((e) => e.isFile() && (YAML.test(e.name) || SPL.test(e.name)))
      .map((e) => path.join(e.parentPath, e.name))
      .sort()
    for (const f of files) await classifyFile(f, out)
  }
  return out
}
