// Reads GitHub Markdown tables back into cells, honouring `\|` escapes, so tests can check structure.
export function tableCells(line: string): string[] {
  const cells: string[] = []
  let cell = ''
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '\\' && line[i + 1] === '|') {
      cell += '\\|'
      i++
    } else if (c === '|') {
      cells.push(cell.trim())
      cell = ''
    } else cell += c
  }
  cells.push(cell.trim())
  // A row starts and ends with a pipe: drop the empty edges.
  return cells.slice(1, -1)
}

/** The table that follows `## heading` (or `### heading`): header cells and row cells. */
export function tableAfter(markdown: string, heading: string): { header: string[]; rows: string[][] } {
  const start = markdown.indexOf(`${heading}\n`)
  if (start < 0) throw new Error(`no heading ${heading}`)
  const lines = markdown.slice(start).split('\n')
  const first = lines.findIndex((l) => l.startsWith('|'))
  const block: string[] = []
  for (const l of lines.slice(first)) {
    if (!l.startsWith('|')) break
    block.push(l)
  }
  const [header, , ...rows] = block
  return { header: tableCells(header ?? ''), rows: rows.map(tableCells) }
}

/** The text of a `## heading` section, up to the next `## ` heading. */
export function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`no heading ${heading}`)
  const next = markdown.indexOf('\n## ', start + heading.length + 1)
  return markdown.slice(start, next < 0 ? undefined : next)
}
