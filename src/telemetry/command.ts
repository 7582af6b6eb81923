// Builders for the derived `Command` field. `Command` is a list of strings, so one event can state
// both the client command it implies (`kubectl exec`) and the command run inside the container
// (`curl http://…`); SPL and Sigma match a list when any element matches. See docs/telemetry.md.

// Decodes one form-encoded query value (`+` is a space). Runs of %XX are decoded together (UTF-8
// sequences span several); a run that is not valid UTF-8, and a stray `%`, are kept as written.
export function decodeQueryValue(value: string): string {
  return value.replaceAll('+', ' ').replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run)
    } catch {
      return run
    }
  })
}

/** Splits `path?query` and returns every value of `key` in the query, decoded, in order. */
export function queryValues(uri: string, key: string): string[] {
  const q = uri.indexOf('?')
  if (q < 0) return []
  const values: string[] = []
  for (const pair of uri.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    if (decodeQueryValue(name) === key) values.push(eq < 0 ? '' : decodeQueryValue(pair.slice(eq + 1)))
  }
  return values
}

/**
 * The Command list for one client action: the short form (`kubectl get secret`), then the form naming
 * the object (`kubectl get secret db`), then the in-container argv when there is one. Duplicates and
 * empty parts are dropped.
 */
export function commandList(short: string | undefined, object?: string, argv?: string): string[] {
  const list: string[] = []
  const add = (value: string | undefined) => {
    if (value && !list.includes(value)) list.push(value)
  }
  add(short)
  if (short && object) add(`${short} ${object}`)
  add(argv)
  return list
}
