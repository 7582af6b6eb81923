// Syntax tree of the supported SPL `search` subset (see docs/spl.md).

/** A value as written: literal pieces between unescaped `*` wildcards, lower-cased for matching. */
export interface Pattern {
  /** Lower-cased literal segments; `a*b` → ['a', 'b'], `*` → ['', '']. */
  readonly segments: readonly string[]
  /** The value as it appeared in the search (for messages and near-miss reports). */
  readonly text: string
  /** The value is a network in CIDR notation (`10.0.0.0/8`): it matches the addresses inside it. */
  readonly cidr?: boolean
}

export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>='

export type SplNode =
  | { readonly kind: 'and'; readonly children: readonly SplNode[] }
  | { readonly kind: 'or'; readonly children: readonly SplNode[] }
  | { readonly kind: 'not'; readonly child: SplNode }
  | { readonly kind: 'compare'; readonly field: string; readonly op: CompareOp; readonly value: Pattern }
  | { readonly kind: 'in'; readonly field: string; readonly values: readonly Pattern[] }
  | { readonly kind: 'keyword'; readonly value: Pattern }

/** How a leaf test is shown to users, e.g. `verb IN ("create", "patch")`. */
export function describeNode(node: SplNode): string {
  switch (node.kind) {
    case 'compare':
      return `${node.field}${node.op}${JSON.stringify(node.value.text)}`
    case 'in':
      return `${node.field} IN (${node.values.map((v) => JSON.stringify(v.text)).join(', ')})`
    case 'keyword':
      return JSON.stringify(node.value.text)
    case 'not':
      return `NOT ${describeNode(node.child)}`
    case 'and':
      return `(${node.children.map(describeNode).join(' AND ')})`
    case 'or':
      return `(${node.children.map(describeNode).join(' OR ')})`
  }
}
