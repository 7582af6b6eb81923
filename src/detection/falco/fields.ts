// The Falco fields purplekind evaluates over a k8s-audit event: the k8saudit plugin's `ka.*` fields and
// the json plugin's `jevt.*`/`json.*` fields, each derived from the audit event as the plugins derive it
// (see docs/falco.md for the table). A field's value is a string, a list of strings (list fields), or
// undefined when the plugin would report it as not available.

export type FieldValue = string | readonly string[] | undefined

export interface FieldSpec {
  /** List fields hold several values: `in` means all of them are in the set, `intersects` any. */
  list: boolean
  /** `required`: `field[arg]` must have an argument; `index`: an optional numeric index; `key`: optional key. */
  arg: 'none' | 'required' | 'index' | 'key'
  extract(raw: Record<string, unknown>, arg: string | undefined, stageTimestamp: string): FieldValue
}

/** What the k8saudit/json plugins' `Extract` would reject or not find: the field is absent. */
const NA = undefined

/** A JSON value as the plugins turn it into a string: strings as they are, anything else as compact JSON. */
export function jsonString(v: unknown): string | undefined {
  if (v === undefined) return undefined
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** Walks object keys (and numeric indexes into arrays), like fastjson's `Get(keys...)`. */
function get(v: unknown, ...keys: string[]): unknown {
  for (const k of keys) {
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(k)) return undefined
      v = v[Number(k)]
    } else if (v !== null && typeof v === 'object') {
      v = Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined
    } else return undefined
    if (v === undefined) return undefined
  }
  return v
}

/** `extractFromKeys`: a string field, or for list fields an array whose items become strings. */
function fromKeys(list: boolean, ...keys: string[]): FieldSpec['extract'] {
  return (raw) => {
    const v = get(raw, ...keys)
    if (v === undefined) return NA
    if (!list) return jsonString(v)
    if (!Array.isArray(v)) return NA
    return v.map((item) => jsonString(item) as string)
  }
}

const ABSENT = Symbol('absent')

/**
 * `getValuesRecursive`: follows `keys`; whenever the value in hand is an array, fans out over its items
 * (or takes item `index` when given). Items missing the rest of the path give ABSENT entries.
 */
function valuesRecursive(
  v: unknown,
  index: number | undefined,
  keys: readonly string[],
): unknown[] | undefined {
  for (let i = 0; i < keys.length; i++) {
    if (Array.isArray(v)) {
      if (index === undefined) {
        const out: unknown[] = []
        for (const item of v) out.push(...(valuesRecursive(item, index, keys.slice(i)) ?? [ABSENT]))
        return out
      }
      if (index >= v.length) return undefined
      v = v[index]
    }
    const k = keys[i]!
    v = k === '' ? v : get(v, k)
    if (v === undefined) return undefined
  }
  return [v]
}

function stringsSkipAbsent(values: readonly unknown[]): string[] {
  return values.filter((v) => v !== ABSENT && v !== undefined).map((v) => jsonString(v) as string)
}

function indexOf(arg: string | undefined): number | undefined {
  return arg === undefined || !/^\d+$/.test(arg) ? undefined : Number(arg)
}

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const
type ContainerList = (typeof CONTAINER_LISTS)[number]

function containerValues(raw: unknown, list: ContainerList, arg: string | undefined, ...sub: string[]) {
  return valuesRecursive(raw, indexOf(arg), ['requestObject', 'spec', list, ...sub])
}

/** Per container, its string-array `key` (command/args) joined by spaces; not available when none has one. */
function joinedArrays(raw: unknown, list: ContainerList, arg: string | undefined, key: string): FieldValue {
  const values = containerValues(raw, list, arg, key)
  if (!values) return NA
  const out: string[] = []
  for (const v of values) {
    if (v === ABSENT) continue
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return NA
    out.push(v.join(' '))
  }
  return out.length ? out : NA
}

function images(raw: unknown, list: ContainerList, arg: string | undefined): string[] | undefined {
  const values = containerValues(raw, list, arg, 'image')
  // The plugin fails the whole field when one container has no image.
  if (!values || values.includes(ABSENT)) return undefined
  return values.map((v) => jsonString(v) as string)
}

/** `image.repository`: the image up to the first ':' and then the first '@' (as the plugin cuts it). */
function repository(image: string): string {
  return image.split(':')[0]!.split('@')[0]!
}

function hostPorts(raw: unknown, list: ContainerList, arg: string | undefined): FieldValue {
  const values = containerValues(raw, list, arg, 'ports')
  if (!values) return NA
  const out: string[] = []
  for (const ports of values) {
    if (ports === ABSENT) continue
    if (!Array.isArray(ports)) return NA
    for (const port of ports) {
      const p = get(port, 'hostPort') ?? get(port, 'containerPort')
      if (p !== undefined) out.push(jsonString(p) as string)
    }
  }
  return out
}

/** `eff_run_as_*`: the container's own value, else the pod's, else "0". */
function effective(raw: unknown, list: ContainerList, arg: string | undefined, key: string): FieldValue {
  const podValue = jsonString(get(raw, 'requestObject', 'spec', key)) ?? '0'
  const values = containerValues(raw, list, arg, 'securityContext', key)
  if (!values) return NA
  return values.map((v) => (v === ABSENT ? podValue : (jsonString(v) as string)))
}

function containerFields(list: ContainerList, withHostPort: boolean): [string, FieldSpec][] {
  const flag =
    (...sub: string[]): FieldSpec['extract'] =>
    (raw, arg) => {
      const values = containerValues(raw, list, arg, ...sub)
      return values ? stringsSkipAbsent(values) : NA
    }
  const entries: [string, FieldSpec['extract']][] = [
    ['name', (raw, arg) => names(raw, list, arg)],
    ['image', (raw, arg) => images(raw, list, arg)],
    ['image.repository', (raw, arg) => images(raw, list, arg)?.map(repository)],
    ['command', (raw, arg) => joinedArrays(raw, list, arg, 'command')],
    ['args', (raw, arg) => joinedArrays(raw, list, arg, 'args')],
    ['privileged', flag('securityContext', 'privileged')],
    ['allow_privilege_escalation', flag('securityContext', 'allowPrivilegeEscalation')],
    ['read_only_fs', flag('securityContext', 'readOnlyRootFilesystem')],
    ['run_as_user', flag('securityContext', 'runAsUser')],
    ['eff_run_as_user', (raw, arg) => effective(raw, list, arg, 'runAsUser')],
    ['run_as_group', flag('securityContext', 'runAsGroup')],
    ['eff_run_as_group', (raw, arg) => effective(raw, list, arg, 'runAsGroup')],
    ['proc_mount', flag('securityContext', 'procMount')],
    ['add_capabilities', flag('securityContext', 'capabilities', 'add')],
  ]
  if (withHostPort) entries.push(['host_port', (raw, arg) => hostPorts(raw, list, arg)])
  return entries.map(([name, extract]) => [
    `ka.req.pod.${list}.${name}`,
    { list: true, arg: 'index', extract },
  ])
}

function names(raw: unknown, list: ContainerList, arg: string | undefined): FieldValue {
  const values = containerValues(raw, list, arg, 'name')
  if (!values || values.includes(ABSENT)) return NA
  return values.map((v) => jsonString(v) as string)
}

/** `requestObject.rules[*].<key>` flattened (role rules), also what the plugin reads for `ka.sourceips`. */
function rulesField(key: string): FieldSpec['extract'] {
  return (raw, arg) => {
    const values = valuesRecursive(raw, indexOf(arg), ['requestObject', 'rules', key])
    if (!values) return NA
    return values.flatMap((v) => (Array.isArray(v) ? stringsSkipAbsent(v) : []))
  }
}

function subjectNames(kind: 'User' | 'ServiceAccount' | 'Group', namespaced = false): FieldSpec['extract'] {
  return (raw) => {
    const subjects = get(raw, 'requestObject', 'subjects')
    if (subjects === undefined) return []
    if (!Array.isArray(subjects)) return NA
    const out: string[] = []
    for (const s of subjects) {
      const k = get(s, 'kind')
      const name = get(s, 'name')
      if (k === undefined || name === undefined || jsonString(k) !== kind) continue
      if (!namespaced) out.push(jsonString(name) as string)
      else {
        const ns = get(s, 'namespace')
        if (ns !== undefined) out.push(`${jsonString(ns)}:${jsonString(name)}`)
      }
    }
    return out
  }
}

/** Go's `url.ParseQuery(url.Parse(uri).RawQuery)[key][0]`; a malformed query makes the field absent. */
export function uriParam(uri: string, key: string): string | undefined {
  const q = uri.indexOf('?')
  if (q === -1) return undefined
  const hash = uri.indexOf('#', q)
  const query = uri.slice(q + 1, hash === -1 ? undefined : hash)
  let found: string | undefined
  for (const pair of query.split('&')) {
    if (pair === '') continue
    if (pair.includes(';')) return undefined
    const eq = pair.indexOf('=')
    const k = queryUnescape(eq === -1 ? pair : pair.slice(0, eq))
    const v = queryUnescape(eq === -1 ? '' : pair.slice(eq + 1))
    if (k === undefined || v === undefined) return undefined
    if (k === key && found === undefined) found = v
  }
  return found
}

function queryUnescape(s: string): string | undefined {
  const bytes: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === '%') {
      const hex = s.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else if (c === '+') bytes.push(0x20)
    else bytes.push(...Buffer.from(c, 'utf8'))
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * RFC 3339 time → integer nanoseconds since the epoch, as a decimal string (`jevt.rawtime`). Parsed by
 * hand (no RegExp on event data): the fraction is read digit by digit so nanoseconds are kept exactly.
 */
export function rawtimeNs(stamp: string): string | undefined {
  const t = stamp.indexOf('T') === -1 ? stamp.indexOf('t') : stamp.indexOf('T')
  if (t === -1 || stamp.length < t + 9) return undefined
  let end = t + 9 // just past HH:MM:SS
  let digits = ''
  if (stamp[end] === '.') {
    let i = end + 1
    while (i < stamp.length && stamp[i]! >= '0' && stamp[i]! <= '9') i++
    digits = stamp.slice(end + 1, i)
    if (digits.length === 0 || digits.length > 9) return undefined
    end = i
  }
  const ms = Date.parse(stamp.slice(0, t + 9) + stamp.slice(end))
  if (Number.isNaN(ms)) return undefined
  return (BigInt(ms) * 1_000_000n + BigInt(digits.padEnd(9, '0'))).toString()
}

/** `jevt.value[/json/pointer]` (RFC 6901; `~1` is '/', `~0` is '~'); no pointer gives the whole event. */
function jsonPointer(raw: Record<string, unknown>, arg: string | undefined): string | undefined {
  if (!arg) return JSON.stringify(raw)
  let keys = POINTERS.get(arg)
  if (!keys) {
    const path = arg.startsWith('/') ? arg.slice(1) : arg
    keys = path.split('/').map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'))
    POINTERS.set(arg, keys)
  }
  return jsonString(get(raw, ...keys))
}

/** Parsed pointers by argument; arguments come from rule files, so this stays as small as they are. */
const POINTERS = new Map<string, string[]>()

const scalar = (...keys: string[]): FieldSpec => ({
  list: false,
  arg: 'none',
  extract: fromKeys(false, ...keys),
})
const listOf = (...keys: string[]): FieldSpec => ({
  list: true,
  arg: 'none',
  extract: fromKeys(true, ...keys),
})
const annotation = (key: string) => scalar('annotations', key)
const spec = (...keys: string[]) => scalar('requestObject', 'spec', ...keys)
const volumes = (...keys: string[]): FieldSpec => ({
  list: true,
  arg: 'index',
  extract: (raw, arg) => {
    const values = valuesRecursive(raw, indexOf(arg), ['requestObject', 'spec', 'volumes', ...keys])
    return values ? stringsSkipAbsent(values) : NA
  },
})

const JSON_FIELDS: [string, FieldSpec][] = ['jevt', 'json'].flatMap((p): [string, FieldSpec][] => [
  [`${p}.value`, { list: false, arg: 'key', extract: (raw, arg) => jsonPointer(raw, arg) }],
  [`${p}.obj`, { list: false, arg: 'none', extract: (raw) => JSON.stringify(raw, null, 2) }],
  [`${p}.rawtime`, { list: false, arg: 'none', extract: (_raw, _arg, stamp) => rawtimeNs(stamp) }],
])

export const FIELDS: ReadonlyMap<string, FieldSpec> = new Map<string, FieldSpec>([
  ['ka.auditid', scalar('auditID')],
  ['ka.stage', scalar('stage')],
  ['ka.auth.decision', annotation('authorization.k8s.io/decision')],
  ['ka.auth.reason', annotation('authorization.k8s.io/reason')],
  ['ka.auth.openshift.decision', annotation('authentication.openshift.io/decision')],
  ['ka.auth.openshift.username', annotation('authentication.openshift.io/username')],
  [
    'ka.validations.admission.policy.failure',
    annotation('validation.policy.admission.k8s.io/validation_failure'),
  ],
  ['ka.security.pod.violations', annotation('pod-security.kubernetes.io/audit-violations')],
  ['ka.user.name', scalar('user', 'username')],
  ['ka.user.groups', listOf('user', 'groups')],
  ['ka.impuser.name', scalar('impersonatedUser', 'username')],
  ['ka.verb', scalar('verb')],
  ['ka.uri', scalar('requestURI')],
  [
    'ka.uri.param',
    {
      list: false,
      arg: 'required',
      extract: (raw, arg) => {
        const uri = get(raw, 'requestURI')
        return uri === undefined ? NA : uriParam(jsonString(uri) as string, arg ?? '')
      },
    },
  ],
  ['ka.target.name', scalar('objectRef', 'name')],
  ['ka.target.namespace', scalar('objectRef', 'namespace')],
  ['ka.target.resource', scalar('objectRef', 'resource')],
  ['ka.target.subresource', scalar('objectRef', 'subresource')],
  [
    'ka.target.pod.name',
    {
      list: false,
      arg: 'none',
      extract: (raw) => {
        const isPod = get(raw, 'objectRef', 'resource') === 'pods'
        const sub = get(raw, 'objectRef', 'subresource')
        return isPod && (sub === undefined || sub === '')
          ? jsonString(get(raw, 'responseObject', 'metadata', 'name'))
          : NA
      },
    },
  ],
  ['ka.req.binding.subjects', listOf('requestObject', 'subjects')],
  ['ka.req.binding.subjects.user_names', { list: true, arg: 'none', extract: subjectNames('User') }],
  [
    'ka.req.binding.subjects.serviceaccount_names',
    { list: true, arg: 'none', extract: subjectNames('ServiceAccount') },
  ],
  [
    'ka.req.binding.subjects.serviceaccount_ns_names',
    { list: true, arg: 'none', extract: subjectNames('ServiceAccount', true) },
  ],
  ['ka.req.binding.subjects.group_names', { list: true, arg: 'none', extract: subjectNames('Group') }],
  ['ka.req.binding.role', scalar('requestObject', 'roleRef', 'name')],
  // Deprecated in the plugin; it always answers "true".
  ['ka.req.binding.subject.has_name', { list: false, arg: 'required', extract: () => 'true' }],
  ['ka.req.configmap.name', scalar('objectRef', 'name')],
  ['ka.req.configmap.obj', scalar('requestObject', 'data')],
  [
    'ka.req.container.image',
    { list: false, arg: 'none', extract: (raw) => images(raw, 'containers', undefined)?.[0] },
  ],
  [
    'ka.req.container.image.repository',
    {
      list: false,
      arg: 'none',
      extract: (raw) => {
        const first = images(raw, 'containers', undefined)?.[0]
        return first === undefined ? NA : repository(first)
      },
    },
  ],
  ['ka.req.pod.host_ipc', spec('hostIPC')],
  ['ka.req.pod.host_network', spec('hostNetwork')],
  ['ka.req.container.host_network', spec('hostNetwork')],
  ['ka.req.pod.host_pid', spec('hostPID')],
  [
    'ka.req.container.privileged',
    {
      list: false,
      arg: 'none',
      extract: (raw) => {
        const values = containerValues(raw, 'containers', undefined, 'securityContext', 'privileged')
        if (!values) return NA
        return values.some((v) => v === true) ? 'true' : 'false'
      },
    },
  ],
  ['ka.req.pod.run_as_user', spec('securityContext', 'runAsUser')],
  ['ka.req.pod.run_as_group', spec('securityContext', 'runAsGroup')],
  ['ka.req.role.rules', listOf('requestObject', 'rules')],
  ['ka.req.role.rules.apiGroups', { list: true, arg: 'index', extract: rulesField('apiGroups') }],
  ['ka.req.role.rules.nonResourceURLs', { list: true, arg: 'index', extract: rulesField('nonResourceURLs') }],
  ['ka.req.role.rules.verbs', { list: true, arg: 'index', extract: rulesField('verbs') }],
  ['ka.req.role.rules.resources', { list: true, arg: 'index', extract: rulesField('resources') }],
  ['ka.req.pod.fs_group', spec('securityContext', 'fsGroup')],
  [
    'ka.req.pod.supplemental_groups',
    listOf('requestObject', 'spec', 'securityContext', 'supplementalGroups'),
  ],
  ['ka.req.service.type', spec('type')],
  ['ka.req.service.ports', volumesLike(['requestObject', 'spec', 'ports'])],
  [
    'ka.req.volume.hostpath',
    {
      list: false,
      arg: 'required',
      extract: (raw, arg = '') => {
        const values = valuesRecursive(raw, undefined, [
          'requestObject',
          'spec',
          'volumes',
          'hostPath',
          'path',
        ])
        if (!values) return NA
        const prefix = arg.endsWith('*') ? arg.slice(0, -1) : undefined
        const hit = stringsSkipAbsent(values).some((p) =>
          prefix !== undefined ? p.startsWith(prefix) : p === arg,
        )
        return hit ? 'true' : 'false'
      },
    },
  ],
  ['ka.req.pod.volumes.hostpath', volumes('hostPath', 'path')],
  ['ka.req.pod.volumes.flexvolume_driver', volumes('flexVolume', 'driver')],
  [
    'ka.req.pod.volumes.volume_type',
    {
      list: true,
      arg: 'index',
      extract: (raw, arg) => {
        const values = valuesRecursive(raw, indexOf(arg), ['requestObject', 'spec', 'volumes', ''])
        if (!values) return NA
        return values.flatMap((v) =>
          v !== null && typeof v === 'object' && !Array.isArray(v)
            ? Object.keys(v).filter((k) => k !== 'name')
            : [],
        )
      },
    },
  ],
  ['ka.resp.name', scalar('responseObject', 'metadata', 'name')],
  ['ka.response.code', scalar('responseStatus', 'code')],
  ['ka.response.reason', scalar('responseStatus', 'reason')],
  ['ka.useragent', scalar('userAgent')],
  // The plugin (v0.18) reads sourceIPs from requestObject.rules[*], not the event's top-level
  // `sourceIPs`, so this is absent on real events; kept faithful, documented in docs/falco.md.
  ['ka.sourceips', { list: true, arg: 'index', extract: rulesField('sourceIPs') }],
  ['ka.cluster.name', annotation('cluster_name')],
  ...containerFields('containers', true),
  ...containerFields('initContainers', true),
  ...containerFields('ephemeralContainers', false),
  ...JSON_FIELDS,
])

function volumesLike(keys: string[]): FieldSpec {
  return {
    list: true,
    arg: 'index',
    extract: (raw, arg) => {
      const values = valuesRecursive(raw, indexOf(arg), keys)
      return values ? stringsSkipAbsent(values) : NA
    },
  }
}
