// The language-neutral shape the "can this rule ever fire?" check reasons about: a rule's condition as
// and/or over field tests. Only what a rule *requires* matters, so negations count as "anything".

/** How a test constrains a field: glob over its value, mere presence, or presence with an unknown test. */
export type TestKind = 'glob' | 'exists' | 'opaque'

export interface Atom {
  /** Field path as the telemetry knows it (`verb`, `objectRef.subresource`, `Command`). */
  field: string
  kind: TestKind
  /** For `glob`: any one of these must match (`*`, `?`, `\x` escapes). */
  patterns: string[]
  caseSensitive: boolean
  /** The test as the rule wrote it, for messages. */
  text: string
}

export type Formula =
  | { kind: 'and' | 'or'; items: Formula[] }
  | { kind: 'atom'; atom: Atom }
  /** Satisfiable by some event as far as this check can tell (keywords, negations, unmapped fields). */
  | { kind: 'any' }

export const ANY: Formula = { kind: 'any' }

export function atom(
  field: string,
  kind: TestKind,
  patterns: string[],
  caseSensitive: boolean,
  text: string,
): Formula {
  return { kind: 'atom', atom: { field, kind, patterns, caseSensitive, text } }
}

const MAX_TERMS = 512

/**
 * Disjunctive normal form: each term is a conjunction of atoms that together make the rule match.
 * Undefined when it would exceed MAX_TERMS (the rule is then not judged).
 */
export function toDnf(f: Formula): Atom[][] | undefined {
  switch (f.kind) {
    case 'any':
      return [[]]
    case 'atom':
      return [[f.atom]]
    case 'or': {
      const terms: Atom[][] = []
      for (const item of f.items) {
        const sub = toDnf(item)
        if (!sub) return undefined
        terms.push(...sub)
        if (terms.length > MAX_TERMS) return undefined
      }
      return terms
    }
    case 'and': {
      let terms: Atom[][] = [[]]
      for (const item of f.items) {
        const sub = toDnf(item)
        if (!sub) return undefined
        if (terms.length * sub.length > MAX_TERMS) return undefined
        terms = terms.flatMap((t) => sub.map((s) => [...t, ...s]))
      }
      return terms
    }
  }
}

/** Escapes a literal so it matches only itself as a glob pattern. */
export function literalPattern(s: string): string {
  return s.replace(/[\\*?[]/g, (c) => `\\${c}`)
}
