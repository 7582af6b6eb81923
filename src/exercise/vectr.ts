// A test-case CSV for VECTR's import: one row per attack and team (technique, outcome, detection time).
// Column names follow VECTR's test-case fields; map them in VECTR's CSV import if your version names
// them differently. Cells are escaped for CSV, and a cell that a spreadsheet would read as a formula
// (=, +, -, @ first) is prefixed with ' — commands and notes come from attackers and students.

export interface VectrRow {
  campaign: string
  name: string
  technique: string
  phase: string
  description: string
  tools: string
  outcome: 'Detected' | 'Not Detected'
  notes: string
  start: number
  stop: number
  detectionTime?: number
  blueTeam: string
}

export const VECTR_COLUMNS = [
  'Campaign',
  'Test Case Name',
  'Technique ID',
  'Phase',
  'Description',
  'Red Team Tools',
  'Status',
  'Outcome',
  'Outcome Notes',
  'Start Time',
  'Stop Time',
  'Detection Time',
  'Blue Team',
] as const

export function csvCell(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString())

export function renderVectrCsv(rows: readonly VectrRow[]): string {
  const lines = [VECTR_COLUMNS.join(',')]
  for (const r of rows)
    lines.push(
      [
        r.campaign,
        r.name,
        r.technique,
        r.phase,
        r.description,
        r.tools,
        'Completed',
        r.outcome,
        r.notes,
        iso(r.start),
        iso(r.stop),
        iso(r.detectionTime),
        r.blueTeam,
      ]
        .map(csvCell)
        .join(','),
    )
  return `${lines.join('\r\n')}\r\n`
}
