// Every error a user can cause carries a stable code; the CLI prints `✖ message [CODE]` and a hint,
// and shows stacks only with --verbose.
export type ErrorCode =
  | 'PURPLE_SCENARIO_INVALID'
  | 'PURPLE_SCENARIO_YAML'
  | 'PURPLE_SCENARIO_UNKNOWN_FIELD'
  | 'PURPLE_SCENARIO_MISSING_FIELD'
  | 'PURPLE_SCENARIO_BAD_REFERENCE'
  | 'PURPLE_SCENARIO_UNSAFE_FLAG'
  | 'PURPLE_SCENARIO_TOO_LARGE'
  | 'PURPLE_SCENARIO_TOO_DEEP'
  | 'PURPLE_SCENARIO_ALIASES'
  | 'PURPLE_RULE_INVALID'
  | 'PURPLE_RULE_UNSUPPORTED'
  | 'PURPLE_SPL_UNSUPPORTED'
  | 'PURPLE_EVENTS_INVALID'
  | 'PURPLE_REPORT_INVALID'
  | 'PURPLE_INPUT_NOT_FOUND'
  | 'PURPLE_USAGE'
  | 'PURPLE_CONTEXT_REFUSED'
  | 'PURPLE_PROVIDER_UNAVAILABLE'
  | 'PURPLE_LAB_FAILED'
  | 'PURPLE_ASSETS_MISSING'
  | 'PURPLE_COMMAND_FAILED'
  | 'PURPLE_COLLECTOR_FAILED'
  | 'PURPLE_PREFLIGHT_FAILED'
  | 'PURPLE_INTERRUPTED'
  | 'PURPLE_INTERNAL'

export class PurpleError extends Error {
  readonly code: ErrorCode
  readonly hint: string | undefined
  constructor(code: ErrorCode, message: string, options?: ErrorOptions & { hint?: string }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.hint = options?.hint
  }
}

/** One problem found while validating a file: `file:field.path: message [code]`. */
export interface Issue {
  file: string
  path: string
  message: string
  code: ErrorCode
}

export function formatIssue(issue: Issue): string {
  return `${issue.file}:${issue.path}: ${issue.message} [${issue.code}]`
}

/** Several validation problems reported at once (never only the first). */
export class ValidationError extends PurpleError {
  readonly issues: readonly Issue[]
  constructor(issues: readonly Issue[]) {
    const first = issues[0]
    super(first?.code ?? 'PURPLE_SCENARIO_INVALID', issues.map(formatIssue).join('\n'))
    this.issues = issues
  }
}
