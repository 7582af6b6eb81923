// A tiny XML 1.0 well-formedness parser for tests (no DTDs): throws on the first error, returns the tree.
export interface XmlElement {
  name: string
  attrs: Record<string, string>
  children: XmlElement[]
  /** Concatenated character data (text and CDATA), entities decoded. */
  text: string
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function isNameChar(c: string | undefined, first: boolean): boolean {
  if (c === undefined) return false
  if (/[A-Za-z_:]/.test(c) || c.charCodeAt(0) > 0x7f) return true
  return !first && /[0-9.-]/.test(c)
}

class Parser {
  pos = 0
  constructor(readonly src: string) {}

  fail(message: string): never {
    throw new Error(`XML error at ${this.pos}: ${message}`)
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos)
  }

  expect(s: string): void {
    if (!this.startsWith(s)) this.fail(`expected ${JSON.stringify(s)}`)
    this.pos += s.length
  }

  skipSpace(): void {
    while (' \t\r\n'.includes(this.src[this.pos] ?? 'x')) this.pos++
  }

  until(end: string): string {
    const at = this.src.indexOf(end, this.pos)
    if (at < 0) this.fail(`unterminated, expected ${JSON.stringify(end)}`)
    const body = this.src.slice(this.pos, at)
    this.pos = at + end.length
    return body
  }

  name(): string {
    const start = this.pos
    if (!isNameChar(this.src[this.pos], true)) this.fail('expected a name')
    while (isNameChar(this.src[this.pos], false)) this.pos++
    return this.src.slice(start, this.pos)
  }

  /** Decodes entity references in text or attribute values; a bare `&` or `<` is an error. */
  decode(raw: string, inAttr: boolean): string {
    let out = ''
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i] as string
      if (c === '<') this.fail('"<" in character data')
      if (c !== '&') {
        out += c
        continue
      }
      const semi = raw.indexOf(';', i)
      if (semi < 0) this.fail('unterminated entity')
      const ref = raw.slice(i + 1, semi)
      if (ref.startsWith('#x')) out += String.fromCodePoint(Number.parseInt(ref.slice(2), 16))
      else if (ref.startsWith('#')) out += String.fromCodePoint(Number.parseInt(ref.slice(1), 10))
      else if (ENTITIES[ref] !== undefined) out += ENTITIES[ref]
      else this.fail(`unknown entity &${ref};`)
      i = semi
    }
    if (!inAttr && raw.includes(']]>')) this.fail('"]]>" in character data')
    return out
  }

  misc(): void {
    for (;;) {
      this.skipSpace()
      if (this.startsWith('<!--')) {
        this.pos += 4
        this.until('-->')
      } else if (this.startsWith('<?')) {
        this.pos += 2
        this.until('?>')
      } else return
    }
  }

  element(): XmlElement {
    this.expect('<')
    const el: XmlElement = { name: this.name(), attrs: {}, children: [], text: '' }
    for (;;) {
      this.skipSpace()
      if (this.startsWith('/>')) {
        this.pos += 2
        return el
      }
      if (this.startsWith('>')) {
        this.pos++
        break
      }
      const attr = this.name()
      if (Object.hasOwn(el.attrs, attr)) this.fail(`duplicate attribute ${attr}`)
      this.skipSpace()
      this.expect('=')
      this.skipSpace()
      const quote = this.src[this.pos]
      if (quote !== '"' && quote !== "'") this.fail('expected a quoted attribute value')
      this.pos++
      el.attrs[attr] = this.decode(this.until(quote), true)
    }
    this.content(el)
    return el
  }

  content(el: XmlElement): void {
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`unclosed <${el.name}>`)
      if (this.startsWith('</')) {
        this.pos += 2
        const closing = this.name()
        if (closing !== el.name) this.fail(`</${closing}> closes <${el.name}>`)
        this.skipSpace()
        this.expect('>')
        return
      }
      if (this.startsWith('<![CDATA[')) {
        this.pos += 9
        el.text += this.until(']]>')
      } else if (this.startsWith('<!--')) {
        this.pos += 4
        this.until('-->')
      } else if (this.startsWith('<')) {
        el.children.push(this.element())
      } else {
        const next = this.src.indexOf('<', this.pos)
        const end = next < 0 ? this.src.length : next
        el.text += this.decode(this.src.slice(this.pos, end), false)
        this.pos = end
      }
    }
  }
}

export function parseXml(src: string): XmlElement {
  const p = new Parser(src)
  p.misc()
  const root = p.element()
  p.misc()
  if (p.pos !== src.length) p.fail('content after the root element')
  return root
}

/** Every descendant element named `name`, depth first. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...findAll(c, name)])
}
