import { ValidationError } from '@stackyard/errors';

/** Where a problem or a value comes from: a file relative to the configuration root, and a line when known. */
export interface SourceLocation {
  readonly file: string;
  readonly line?: number;
}

export type ProblemCode =
  | 'MalformedYaml'
  | 'MalformedInventory'
  | 'UnknownGroup'
  | 'CircularGroups'
  | 'HostInNoGroup'
  | 'DuplicateHost'
  | 'UnresolvedVariable'
  | 'SecretInClearText'
  | 'UnknownEnvironment'
  | 'AllocationForUnknownHost'
  | 'UnsupportedFeature'
  /** A host configuration variable (lvm groups, users, container engine, ...) that host preparation cannot use. */
  | 'InvalidHostConfiguration';

/**
 * One finding of an import. Errors make the import fail as a whole (nothing is imported);
 * warnings are returned with the result.
 */
export interface Problem extends SourceLocation {
  readonly severity: 'error' | 'warning';
  readonly code: ProblemCode;
  readonly message: string;
  /** The variable concerned, when there is one. */
  readonly variable?: string;
  /** Hosts the finding applies to, when it is host-specific. */
  readonly hosts?: readonly string[];
}

export function formatProblem(p: Problem): string {
  const where = `${p.file}${p.line !== undefined ? `:${p.line}` : ''}`;
  return `${where}: ${p.variable ? `${p.variable}: ` : ''}${p.message}`;
}

/** An import that found errors: it names every problem (file, line where known, variable). */
export class KayobeConfigError extends ValidationError {
  constructor(readonly problems: readonly Problem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    const first = errors[0];
    super(
      first ? `${first.file}${first.line !== undefined ? `:${first.line}` : ''}` : 'kayobe-config',
      `Kayobe configuration rejected (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${errors.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
  }
}
