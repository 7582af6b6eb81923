// CIDR matching for IPv4 and IPv6 (`cidr` modifier). Addresses are parsed to 16-bit words; IPv4 and
// IPv4-mapped IPv6 (::ffff:a.b.c.d) addresses compare as IPv4.

interface Network {
  words: number[]
  bits: number
}

export function parseCidr(text: string): Network | undefined {
  const [addr, len, extra] = text.trim().split('/')
  if (addr === undefined || extra !== undefined) return undefined
  const words = parseIp(addr)
  if (!words) return undefined
  const max = words.length * 16
  const bits = len === undefined ? max : Number(len)
  if (!/^\d+$/.test(len ?? String(max)) || bits > max) return undefined
  return { words, bits }
}

/** Answers remembered per predicate: telemetry repeats a few addresses (sourceIPs) on most lines. */
const MEMO_SIZE = 1024

export function cidrPredicate(networks: readonly Network[]): (ip: string) => boolean {
  const memo = new Map<string, boolean>()
  return (ip) => {
    const known = memo.get(ip)
    if (known !== undefined) return known
    const words = parseIp(ip)
    const inside =
      words !== undefined && networks.some((n) => n.words.length === words.length && inNetwork(words, n))
    // Bounded: hostile telemetry with endless distinct addresses only empties it.
    if (memo.size >= MEMO_SIZE) memo.clear()
    memo.set(ip, inside)
    return inside
  }
}

function inNetwork(words: readonly number[], net: Network): boolean {
  let left = net.bits
  for (let i = 0; left > 0; i++, left -= 16) {
    const mask = left >= 16 ? 0xffff : (0xffff << (16 - left)) & 0xffff
    if (((words[i]! ^ net.words[i]!) & mask) !== 0) return false
  }
  return true
}

/** 2 words for IPv4, 8 for IPv6; undefined when `s` is not an address. */
export function parseIp(s: string): number[] | undefined {
  if (s.includes(':')) {
    const v6 = parseIpv6(s)
    if (v6?.slice(0, 5).every((w) => w === 0) && v6[5] === 0xffff) return v6.slice(6)
    return v6
  }
  return parseIpv4(s)
}

function parseIpv4(s: string): number[] | undefined {
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  const bytes: number[] = []
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined
    bytes.push(Number(p))
  }
  return [(bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!]
}

function parseIpv6(s: string): number[] | undefined {
  const zone = s.indexOf('%')
  const text = zone >= 0 ? s.slice(0, zone) : s
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = parseGroups(halves[0]!)
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : []
  if (!head || !tail) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  return [...head, ...new Array<number>(missing).fill(0), ...tail]
}

function parseGroups(s: string): number[] | undefined {
  if (s === '') return []
  const out: number[] = []
  const groups = s.split(':')
  for (const [i, g] of groups.entries()) {
    if (i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIpv4(g)
      if (!v4) return undefined
      out.push(...v4)
    } else if (/^[0-9a-f]{1,4}$/i.test(g)) out.push(Number.parseInt(g, 16))
    else return undefined
  }
  return out
}
