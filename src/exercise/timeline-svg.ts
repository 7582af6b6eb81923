// The debrief's timeline picture: one lane for the red team's attacks, one for background traffic and
// look-alikes, a telemetry histogram, and one lane per blue team with its findings. A line from an attack
// to the finding that caught it shows the detection delay; a missed attack is a hollow marker.

import type { Finding, TeamScore } from './score.js'
import type { ActionLog } from './store.js'

export interface TimelineInput {
  title: string
  startedAt: number
  endedAt: number
  actions: readonly ActionLog[]
  /** Attack labels (short) by action id. */
  labels: ReadonlyMap<string, string>
  /** Event times of the telemetry the blue side received. */
  telemetry: readonly number[]
  findings: readonly Finding[]
  teams: readonly TeamScore[]
}

const W = 1200
const LEFT = 190
const RIGHT = 30
const LANE = 64
/** The red lane is taller: attack labels go in up to four rows around the markers. */
const RED = 104
const TOP = 48
const COLORS = {
  attack: '#c0392b',
  lookalike: '#e67e22',
  background: '#95a5a6',
  telemetry: '#2980b9',
  hit: '#27ae60',
  miss: '#7f8c8d',
  grid: '#ecf0f1',
  text: '#2c3e50',
}

export function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function niceStep(spanMs: number): number {
  const steps = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000)
  return steps.find((s) => spanMs / s <= 12) ?? 3600_000
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

export function renderTimeline(t: TimelineInput): string {
  const span = Math.max(1000, t.endedAt - t.startedAt)
  const x = (ms: number) =>
    LEFT + ((Math.min(Math.max(ms, t.startedAt), t.endedAt) - t.startedAt) / span) * (W - LEFT - RIGHT)
  const lanes = [
    'Red team — attacks',
    'Background & look-alikes',
    'Telemetry (events)',
    ...t.teams.map((s) => `Blue — ${s.team}`),
  ]
  const laneY = (i: number) => TOP + (i === 0 ? 0 : RED + (i - 1) * LANE)
  const laneH = (i: number) => (i === 0 ? RED : LANE)
  const H = laneY(lanes.length) + 70
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold" fill="${COLORS.text}">${xml(t.title)}</text>`,
  )
  // Lanes and their names.
  lanes.forEach((name, i) => {
    const y = laneY(i)
    out.push(
      `<rect x="${LEFT}" y="${y}" width="${W - LEFT - RIGHT}" height="${laneH(i) - 8}" fill="${i % 2 ? '#fbfcfc' : '#f4f6f7'}" stroke="${COLORS.grid}"/>`,
      `<text x="${LEFT - 10}" y="${y + laneH(i) / 2}" text-anchor="end" fill="${COLORS.text}" font-weight="bold">${xml(name)}</text>`,
    )
  })
  // Time grid.
  const step = niceStep(span)
  const axisY = laneY(lanes.length) + 4
  for (let ms = 0; ms <= span; ms += step) {
    const gx = x(t.startedAt + ms)
    out.push(
      `<line x1="${gx}" y1="${TOP}" x2="${gx}" y2="${axisY}" stroke="#d5dbdb" stroke-dasharray="2,3"/>`,
      `<text x="${gx}" y="${axisY + 14}" text-anchor="middle" fill="${COLORS.text}">${clock(ms)}</text>`,
    )
  }
  // Background and look-alikes: ticks; look-alikes taller, orange.
  const by = laneY(1)
  for (const a of t.actions.filter((a) => a.kind !== 'attack')) {
    const look = a.kind === 'lookalike'
    out.push(
      `<line x1="${x(a.sentAt)}" y1="${by + (look ? 8 : 18)}" x2="${x(a.sentAt)}" y2="${by + LANE - (look ? 16 : 26)}" stroke="${look ? COLORS.lookalike : COLORS.background}" stroke-width="${look ? 3 : 2}"><title>${xml(`${clock(a.sentAt - t.startedAt)} ${a.title} — ${a.identity}`)}</title></line>`,
    )
  }
  // Telemetry histogram.
  const buckets = Math.max(1, Math.floor((W - LEFT - RIGHT) / 8))
  const counts = new Array<number>(buckets).fill(0)
  for (const ms of t.telemetry) {
    if (ms < t.startedAt || ms > t.endedAt) continue
    const b = Math.min(buckets - 1, Math.floor(((ms - t.startedAt) / span) * buckets))
    counts[b] = (counts[b] ?? 0) + 1
  }
  const peak = Math.max(1, ...counts)
  const ty = laneY(2)
  const bw = (W - LEFT - RIGHT) / buckets
  counts.forEach((c, i) => {
    if (!c) return
    const h = ((LANE - 16) * c) / peak
    out.push(
      `<rect x="${(LEFT + i * bw).toFixed(1)}" y="${(ty + LANE - 8 - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS.telemetry}" opacity="0.75"/>`,
    )
  })
  out.push(
    `<text x="${W - RIGHT - 4}" y="${ty + 14}" text-anchor="end" fill="${COLORS.telemetry}">${t.telemetry.length} events, peak ${peak} per ${Math.round(span / buckets / 100) / 10} s</text>`,
  )
  // Findings per team, with the detection delay drawn from the attack.
  const ay = laneY(0) + RED / 2 - 4
  const attacks = t.actions.filter((a) => a.kind === 'attack')
  const found = new Set<string>()
  t.teams.forEach((score, i) => {
    const fy = laneY(3 + i) + LANE / 2 - 4
    const findingById = new Map(t.findings.filter((f) => f.team === score.team).map((f) => [f.id, f]))
    for (const s of score.attacks) {
      const a = attacks.find((a) => a.id === s.attack)
      const f = s.by ? findingById.get(s.by) : undefined
      if (!a || !f) continue
      found.add(a.id)
      const x1 = x(a.sentAt)
      const x2 = x(f.receivedAt)
      out.push(
        `<line x1="${x1}" y1="${ay + 8}" x2="${x2}" y2="${fy - 8}" stroke="${COLORS.hit}" stroke-width="1.5" opacity="0.8"/>`,
        `<text x="${(x1 + x2) / 2 + 4}" y="${(ay + fy) / 2}" fill="${COLORS.hit}" font-size="11">+${Math.round((s.ttdMs ?? 0) / 1000)} s</text>`,
      )
    }
    const unmatched = new Set(score.unmatched)
    for (const f of findingById.values()) {
      const fx = x(f.receivedAt)
      const tip = xml(
        `${f.id} ${f.via}${f.rule ? ` ${f.rule}` : ''}${f.actor ? ` actor=${f.actor}` : ''}${f.note ? ` — ${f.note}` : ''}`,
      )
      if (unmatched.has(f.id))
        out.push(
          `<g stroke="${COLORS.miss}" stroke-width="2.5"><line x1="${fx - 6}" y1="${fy - 6}" x2="${fx + 6}" y2="${fy + 6}"/><line x1="${fx - 6}" y1="${fy + 6}" x2="${fx + 6}" y2="${fy - 6}"/><title>${tip} (matched no attack)</title></g>`,
        )
      else
        out.push(
          `<path d="M ${fx} ${fy - 8} L ${fx + 8} ${fy} L ${fx} ${fy + 8} L ${fx - 8} ${fy} Z" fill="${COLORS.hit}"><title>${tip}</title></path>`,
        )
    }
    out.push(
      `<text x="${W - RIGHT - 4}" y="${laneY(3 + i) + 14}" text-anchor="end" fill="${COLORS.text}">score ${score.score} · recall ${pct(score.recall)} · precision ${pct(score.precision)}</text>`,
    )
  })
  // Attacks last, on top: filled when some team found them, hollow when every team missed them. Labels
  // (the step name) go in the first of four rows around the markers where they do not overlap.
  const rows = [-14, 26, -30, 42]
  const rowEnd = rows.map(() => Number.NEGATIVE_INFINITY)
  for (const a of [...attacks].sort((p, q) => p.sentAt - q.sentAt)) {
    const ax = x(a.sentAt)
    const hit = found.has(a.id)
    const full = t.labels.get(a.id) ?? a.id
    const text = `${full.split('/').pop() ?? full}${hit ? '' : ' (missed)'}`
    const w = text.length * 5.9 + 6
    const cx = Math.min(Math.max(ax, LEFT + w / 2), W - RIGHT - w / 2)
    let row = rowEnd.findIndex((end) => cx - w / 2 > end + 4)
    if (row < 0) row = rowEnd.indexOf(Math.min(...rowEnd))
    rowEnd[row] = cx + w / 2
    out.push(
      `<circle cx="${ax}" cy="${ay}" r="8" fill="${hit ? COLORS.attack : '#ffffff'}" stroke="${COLORS.attack}" stroke-width="2.5"><title>${xml(`${clock(a.sentAt - t.startedAt)} ${full}: ${a.command}`)}</title></circle>`,
      `<text x="${cx}" y="${ay + (rows[row] ?? 0)}" text-anchor="middle" font-size="10.5" fill="${COLORS.attack}">${xml(text)}</text>`,
    )
  }
  // Legend.
  const ly = H - 22
  const legend: [string, string][] = [
    [`<circle cx="0" cy="-4" r="6" fill="${COLORS.attack}"/>`, 'attack found'],
    [
      `<circle cx="0" cy="-4" r="6" fill="#fff" stroke="${COLORS.attack}" stroke-width="2"/>`,
      'attack missed by all',
    ],
    [`<rect x="-2" y="-12" width="4" height="14" fill="${COLORS.lookalike}"/>`, 'look-alike'],
    [`<rect x="-1" y="-10" width="2" height="10" fill="${COLORS.background}"/>`, 'background'],
    [`<path d="M 0 -11 L 7 -4 L 0 3 L -7 -4 Z" fill="${COLORS.hit}"/>`, 'finding that matched'],
    [
      `<g stroke="${COLORS.miss}" stroke-width="2"><line x1="-5" y1="-9" x2="5" y2="1"/><line x1="-5" y1="1" x2="5" y2="-9"/></g>`,
      'finding that matched nothing',
    ],
    [`<line x1="-8" y1="-4" x2="8" y2="-4" stroke="${COLORS.hit}" stroke-width="2"/>`, 'detection delay'],
  ]
  let lx = LEFT
  for (const [mark, text] of legend) {
    out.push(
      `<g transform="translate(${lx},${ly})">${mark}<text x="12" y="0" fill="${COLORS.text}">${xml(text)}</text></g>`,
    )
    lx += 30 + text.length * 6.6
  }
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

const pct = (v: number) => `${Math.round(v * 100)}%`
