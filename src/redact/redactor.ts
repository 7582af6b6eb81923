// The one redactor every string leaving the harness passes through. Masks registered secret values (the
// lab's canaries, in their raw, base64 and URL-encoded forms) and well-known credential shapes, replacing
// each with `[REDACTED:<kind>:<sha256 prefix>]` so a report can prove a value was retrieved without
// containing it.
import { createHash } from 'node:crypto'

/** sha256 hex of `value`, first 12 characters: the stable, non-reversible name of a secret in reports. */
export function fingerprint(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 12)
}

const PLACEHOLDER_PREFIX = '[REDACTED:'

// Logs repeat the same secret many times; hashing each occurrence again dominated redaction time.
const fingerprintCache = new Map<string, string>()
const FINGERPRINT_CACHE_MAX = 10_000

function cachedFingerprint(secret: string): string {
  let fp = fingerprintCache.get(secret)
  if (fp === undefined) {
    if (fingerprintCache.size >= FINGERPRINT_CACHE_MAX) fingerprintCache.clear()
    fp = fingerprint(secret)
    fingerprintCache.set(secret, fp)
  }
  return fp
}

function placeholder(kind: string, secret: string): string {
  return `${PLACEHOLDER_PREFIX}${kind}:${cachedFingerprint(secret)}]`
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// Shorter cores of encoded forms would match unrelated text.
const MIN_ENCODED_CORE = 8

/**
 * The base64 text that encodes `secret` wherever it sits inside a longer encoded blob: for each of the
 * three byte alignments, the characters that depend only on the secret's own bytes (e.g. a password
 * inside a base64 `.dockerconfigjson`).
 */
function base64Cores(secret: Buffer): string[] {
  const cores: string[] = []
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), secret])
      .toString('base64')
      .replace(/=+$/, '')
    const start = Math.ceil((shift * 8) / 6)
    const end = Math.floor(((shift + secret.length) * 8) / 6)
    const core = encoded.slice(start, end)
    if (core.length >= MIN_ENCODED_CORE) cores.push(core)
  }
  return cores
}

function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1)
}

function xmlEscaped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Every form in which a registered secret may appear in output, each worth masking on its own. */
function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  const withNewline = Buffer.from(`${secret}\n`, 'utf8') // `echo secret | base64`
  const forms = [
    secret,
    jsonEscaped(secret),
    xmlEscaped(secret),
    encodeURIComponent(secret),
    bytes.toString('base64'),
    bytes.toString('base64url'),
    withNewline.toString('base64'),
    encodeURIComponent(bytes.toString('base64')),
    ...base64Cores(bytes),
  ]
  return [...new Set(forms)].filter((f) => f.length > 0)
}

interface Pattern {
  readonly kind: string
  /**
   * The secret was guessed from its context (a key or flag name in prose): an ordinary value there — a
   * number, a date, a common word — is not a secret (`password: 16 bytes`, `bearer token`).
   */
  readonly guessed?: true
  readonly regex: RegExp
  /** Cheap check that lets most strings skip the regex entirely. */
  readonly mayMatch: (text: string) => boolean
  /** Named group holding the secret (the rest of the match is kept); undefined = the whole match. */
  readonly group?: string
}

// A value that is already a placeholder is never masked again, which keeps redaction idempotent.
const NOT_PLACEHOLDER = '(?!\\[REDACTED:)'
// Placeholder kinds such as `aws-secret:` must not read as a `secret: value` pair.
const NOT_IN_PLACEHOLDER = '(?<!\\[REDACTED:[a-z0-9-]*)'
// A key that ends a path (`…/serviceaccount/token: No such file`) is not a key.
const NOT_IN_PATH = '(?<![./])'
// Unquoted values stop at characters that delimit them in URLs, JSON, XML and Markdown.
const UNQUOTED_VALUE = `${NOT_PLACEHOLDER}[^\\s&"'\`,;{}\\[\\]<>|\\\\]+`

const SENSITIVE_KEY_SOURCE =
  'password|passwd|client[_-]?secret|secret[_-]?access[_-]?key|secretaccesskey|aws[_-]?secret[_-]?access[_-]?key|' +
  'session[_-]?token|sessiontoken|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|' +
  // Bare `secret`/`token` only as a key of its own: not `read-secret: Read…` (ids, titles in prose).
  'api[_-]?key|private[_-]?key|client[_-]?key[_-]?data|(?<!-)secret|(?<!-)token'

const PATTERNS: readonly Pattern[] = [
  {
    kind: 'pem',
    regex: /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g,
    mayMatch: (t) => t.includes('-----BEGIN '),
  },
  {
    // A block cut off before its END line (e.g. an output tail): mask the base64 body that follows.
    kind: 'pem',
    regex: /-----BEGIN [A-Z0-9 ]+-----(?:\\[nr]|[A-Za-z0-9+/=\s:,-])*/g,
    mayMatch: (t) => t.includes('-----BEGIN '),
  },
  {
    kind: 'jwt',
    regex: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
    mayMatch: (t) => t.includes('eyJ'),
  },
  {
    kind: 'aws-key',
    regex: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
    mayMatch: (t) => t.includes('AKIA') || t.includes('ASIA'),
  },
  {
    // Entra ID (Azure AD) client secrets: 3 characters, a digit, `Q~`, then 31–34 more.
    kind: 'azure-secret',
    regex: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g,
    mayMatch: (t) => t.includes('Q~'),
  },
  {
    kind: 'aws-secret',
    regex: new RegExp(
      `(?:aws_secret_access_key|secret_access_key|secretaccesskey|secret-access-key)["']?\\s*[:=|]?\\s*["']?` +
        `(?<value>${NOT_PLACEHOLDER}[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])`,
      'gi',
    ),
    mayMatch: (t) => /secret.?access.?key/i.test(t),
    group: 'value',
  },
  {
    kind: 'bearer',
    regex: new RegExp(`\\b(?:bearer|basic)\\s+(?<value>${NOT_PLACEHOLDER}[A-Za-z0-9._~+/=-]{4,})`, 'gi'),
    mayMatch: (t) => /bearer|basic/i.test(t),
    group: 'value',
    guessed: true,
  },
  {
    kind: 'cli-arg',
    regex: new RegExp(
      `--(?:token|password|client-secret|secret|auth-token|bearer-token|aws-secret-access-key|` +
        `session-token|api-key)(?:=|\\s+)(?:"(?<dq>${NOT_PLACEHOLDER}[^"]*)"|'(?<sq>${NOT_PLACEHOLDER}[^']*)'|` +
        `(?<value>${UNQUOTED_VALUE}))`,
      'gi',
    ),
    mayMatch: (t) => t.includes('--'),
    guessed: true,
  },
  {
    // key=value, key: value, "key": "value" for credential-like keys (query strings, forms, YAML, JSON).
    kind: 'credential',
    regex: new RegExp(
      `${NOT_IN_PLACEHOLDER}${NOT_IN_PATH}\\b(?:${SENSITIVE_KEY_SOURCE})["']?\\s*[:=]\\s*(?:"(?<dq>${NOT_PLACEHOLDER}(?:[^"\\\\\\n]|\\\\.)+)"|` +
        `'(?<sq>${NOT_PLACEHOLDER}[^'\\n]+)'|(?<value>${UNQUOTED_VALUE}))`,
      'gi',
    ),
    mayMatch: (t) => /secret|token|passw|key/i.test(t),
    guessed: true,
  },
]

// Quantities (16, 3600, 1.5, 10Gi, 30s, 99%), ISO dates and times: never credentials in prose.
const ORDINARY_NUMBER = /^[+-]?\d{1,9}(?:[.,:]\d{1,9}){0,3}(?:%|[kKMGTP]i?B?|bytes|ms|[smhd])?$/
const ORDINARY_DATE =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/
/** Words CLI output puts after `password:`, `token:`, `--token`, `bearer` that are not the secret. */
const COMMON_WORDS = new Set(
  (
    'true false null nil none n/a na yes no on off auto default required optional enabled disabled set unset ' +
    'empty missing invalid expired valid ok unknown hidden redacted masked omitted present absent provided ' +
    'given needed not is are was were be been has have had must should will can cannot may the a an of for ' +
    'to from in on at by with and or if when must use used using uses see via per each any all this that ' +
    'it its your their our bytes characters chars length long short too changed updated created deleted ' +
    'rotated reset denied forbidden unauthorized refused found file files field fields value values string ' +
    'type types key keys secret secrets token tokens password passwords authentication authorization auth ' +
    'credentials credential access identity login user users account accounts policy expires expiry ' +
    'expiration ttl lifetime age only also then than data+omitted'
  ).split(' '),
)

/** A number, a date or a common word: what a guessed credential position holds in ordinary output. */
export function isOrdinaryValue(value: string): boolean {
  return ORDINARY_NUMBER.test(value) || ORDINARY_DATE.test(value) || COMMON_WORDS.has(value.toLowerCase())
}

/** The secret inside a match: the named group that matched, else the whole match. */
function matchedSecret(match: string, groups: Record<string, string | undefined> | undefined): string {
  if (!groups) return match
  return groups.value ?? groups.dq ?? groups.sq ?? match
}

function applyPattern(text: string, pattern: Pattern): string {
  if (!pattern.mayMatch(text)) return text
  return text.replace(pattern.regex, (...args: unknown[]) => {
    const match = args[0] as string
    const last = args[args.length - 1]
    const groups =
      typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : undefined
    const secret = matchedSecret(match, groups)
    if (pattern.guessed && isOrdinaryValue(secret)) return match
    if (secret === match) return placeholder(pattern.kind, secret)
    // Keep the key/flag and quotes around the secret; mask only the secret itself.
    const at = match.lastIndexOf(secret)
    return match.slice(0, at) + placeholder(pattern.kind, secret) + match.slice(at + secret.length)
  })
}

// `kind: Secret` in YAML or JSON text (kubectl get secret -o yaml|json, audit bodies).
const SECRET_KIND = /\bkind"?\s*:\s*"?Secret(?:List)?\b/
const JSON_DATA_BLOCK = /("(?:data|stringData)"\s*:\s*\{)([^{}]*)(\})/g
const JSON_STRING_VALUE = /("(?:[^"\\]|\\.)*"\s*:\s*")((?:[^"\\]|\\.)+)(")/g
const ANY_PLACEHOLDER = /\[REDACTED:[a-z0-9-]+:[0-9a-f]{12}\]/g

/**
 * One placeholder for a credential value (already passed through `redact`). Placeholders inside it (a
 * canary) are kept after it, so the canary's fingerprint still shows; a value that is only placeholders
 * is left alone, which keeps this idempotent.
 */
function maskValue(kind: string, value: string): string {
  const inner = value.match(ANY_PLACEHOLDER) ?? []
  if (value.replace(ANY_PLACEHOLDER, '').replace(/["'\s]/g, '') === '') return value
  return [placeholder(kind, value), ...inner].join(' ')
}
const YAML_DATA_KEY = /^(\s*)(?:data|stringData):\s*$/
const YAML_ENTRY = /^(\s+[^:\s][^:]*:\s+)(\S.*)$/

/**
 * Masks every value under `data`/`stringData` of a Secret printed as text, whatever its keys are called
 * (a Secret's keys are chosen by its author, so key names cannot tell which values are credentials).
 */
function redactSecretData(text: string): string {
  if (!SECRET_KIND.test(text)) return text
  const json = text.replace(JSON_DATA_BLOCK, (_m, open: string, body: string, close: string) => {
    const masked = body.replace(JSON_STRING_VALUE, (_e, key: string, value: string, quote: string) => {
      return `${key}${maskValue('secret-data', value)}${quote}`
    })
    return `${open}${masked}${close}`
  })
  return redactYamlData(json)
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length
}

function redactYamlData(text: string): string {
  const lines = text.split('\n')
  let dataIndent = -1
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const start = YAML_DATA_KEY.exec(line)
    if (start) {
      dataIndent = (start[1] ?? '').length
      continue
    }
    if (dataIndent < 0 || line.trim() === '') continue
    if (indentOf(line) <= dataIndent) {
      dataIndent = -1
      continue
    }
    const entry = YAML_ENTRY.exec(line)
    if (entry) lines[i] = `${entry[1]}${maskValue('secret-data', entry[2] ?? '')}`
  }
  return lines.join('\n')
}

/** Object keys whose string values are credentials (compared lower-case without `-`, `_`, `.`). */
const SENSITIVE_KEY_SUFFIXES = [
  'password',
  'passwd',
  'secret',
  'token',
  'secretaccesskey',
  'apikey',
  'privatekey',
  'clientkeydata',
  'authorization',
]
const SENSITIVE_KEYS = new Set(['auth', 'credentials'])

function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_.]/g, '')
  return SENSITIVE_KEYS.has(k) || SENSITIVE_KEY_SUFFIXES.some((suffix) => k.endsWith(suffix))
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function isSecretObject(obj: Record<string, unknown>): boolean {
  return obj.kind === 'Secret' || obj.kind === 'SecretList'
}

export interface RedactorOptions {
  /** Values to mask wherever they appear (canaries, generated passwords, issued tokens). */
  secrets?: string[]
}

export class Redactor {
  /** Encoded form → the registered secret it came from (the fingerprint names the original). */
  readonly #forms = new Map<string, string>()
  #combined: RegExp | undefined

  constructor(opts: RedactorOptions = {}) {
    for (const secret of opts.secrets ?? []) this.add(secret)
  }

  /** Registers a secret value; it and its encoded forms are masked from now on. */
  add(secret: string): void {
    if (secret.length === 0) return
    for (const form of secretForms(secret)) {
      if (!this.#forms.has(form)) this.#forms.set(form, secret)
    }
    this.#combined = undefined
  }

  /** Masks every registered secret and every known credential shape in `text`. */
  redact(text: string): string {
    let out = this.#redactRegistered(text)
    for (const pattern of PATTERNS) out = applyPattern(out, pattern)
    return redactSecretData(out)
  }

  /**
   * Deep copy of a JSON-like value with every string redacted, and the values of credential-like keys
   * (password, token, client_secret, SecretAccessKey …) and of Secrets' `data`/`stringData` masked whole.
   */
  redactValue<T>(value: T): T {
    return this.#redactDeep(value, false, false, new Set()) as T
  }

  /**
   * `mask`: strings are credentials and become one placeholder each. `secret`: the object is a Secret
   * even without a `kind` (items of a SecretList). `path` guards against cycles, not shared references.
   */
  #redactDeep(value: unknown, mask: boolean, secret: boolean, path: Set<object>): unknown {
    if (typeof value === 'string') return mask ? this.#maskWhole(value) : this.redact(value)
    if (value === null || typeof value !== 'object') return value
    if (!Array.isArray(value) && !isPlainObject(value)) return value
    if (path.has(value)) return '[Circular]'
    path.add(value)
    try {
      if (Array.isArray(value)) return value.map((item) => this.#redactDeep(item, mask, secret, path))
      return this.#redactObject(value, mask, secret || isSecretObject(value), path)
    } finally {
      path.delete(value)
    }
  }

  #redactObject(obj: Record<string, unknown>, mask: boolean, secret: boolean, path: Set<object>): unknown {
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(obj)) {
      const secretData = secret && (key === 'data' || key === 'stringData')
      const maskChild = mask || secretData || (typeof child === 'string' && isSensitiveKey(key))
      const itemsAreSecrets = obj.kind === 'SecretList' && key === 'items'
      out[this.redact(key)] = this.#redactDeep(child, maskChild, itemsAreSecrets, path)
    }
    return out
  }

  /** A whole string value under a credential key or in a Secret's data. */
  #maskWhole(value: string): string {
    return value.length === 0 ? value : maskValue('secret', this.redact(value))
  }

  #redactRegistered(text: string): string {
    if (this.#forms.size === 0) return text
    this.#combined ??= this.#compile()
    return text.replace(this.#combined, (form) => placeholder('canary', this.#forms.get(form) ?? form))
  }

  // One alternation, longest first, so a longer form (raw secret) wins over a shorter one (a base64 core).
  #compile(): RegExp {
    const forms = [...this.#forms.keys()].sort((a, b) => b.length - a.length)
    return new RegExp(forms.map(escapeRegExp).join('|'), 'g')
  }
}
