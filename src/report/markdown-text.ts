// Escaping for GitHub-flavoured Markdown: table cells, code spans, fenced blocks and inline HTML.

/** Plain text in a table cell or paragraph: Markdown punctuation and HTML are shown literally. */
export function mdText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|])/g, '\\$1')
    .replace(/\r?\n/g, '<br>')
}

/** Text inside raw HTML (e.g. `<summary>`), where Markdown is not parsed. */
export function htmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function longestRun(text: string, char: string): number {
  let longest = 0
  let run = 0
  for (const c of text) {
    run = c === char ? run + 1 : 0
    if (run > longest) longest = run
  }
  return longest
}

/**
 * An inline code span that survives any content: the backtick fence is longer than any run inside, and in
 * a table (`inTable`) pipes are escaped, which GitHub honours inside code spans. Newlines become ⏎.
 */
export function code(text: string, inTable = false): string {
  if (text.length === 0) return '—'
  let body = text.replace(/\r?\n/g, ' ⏎ ')
  if (inTable) body = body.replace(/\|/g, '\\|')
  const fence = '`'.repeat(longestRun(body, '`') + 1)
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${body}${pad}${fence}`
}

/** A fenced code block whose fence is longer than any backtick run in the content. */
export function fence(text: string, lang = ''): string {
  const ticks = '`'.repeat(Math.max(3, longestRun(text, '`') + 1))
  return `${ticks}${lang}\n${text.replace(/\n+$/, '')}\n${ticks}`
}

/** A GitHub table; every cell must already be escaped. `align` is `l` or `r` per column. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: string,
): string {
  const rule = headers.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'))
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`
  return [line(headers), line(rule), ...rows.map(line)].join('\n')
}
