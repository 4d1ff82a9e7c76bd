/** A mistake the user can fix; printed without a stack trace. Exit code 2 for usage, 1 for "not found". */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
