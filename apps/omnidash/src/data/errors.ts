/**
 * A failed Supabase call, with the message the server gave (PostgREST's or
 * Auth's), which the RPCs word for people: "This action needs the operator
 * role in this tenant; you are viewer."
 */
export class DataError extends Error {
  constructor(
    message: string,
    /** PostgREST / Postgres code (42501, PT404, PGRST116, …) when there is one. */
    readonly code: string | undefined,
    /** HTTP status, when the call got an answer. */
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'DataError';
  }

  /** The server refused (4xx): asking again gets the same answer. */
  get isRefusal(): boolean {
    return this.status !== undefined && this.status >= 400 && this.status < 500;
  }
}

interface SupabaseResult<T> {
  data: T | null;
  error: { message: string; code?: string } | null;
  status?: number;
}

/** The data of a supabase-js result, or a DataError with the server's message. */
export function unwrap<T>(result: SupabaseResult<T>): T {
  if (result.error) {
    throw new DataError(
      result.error.message || 'The request failed.',
      result.error.code || undefined,
      result.status,
    );
  }
  return result.data as T;
}

/** What to show a person for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    // fetch's own failure says nothing useful to an operator.
    if (error.message === 'Failed to fetch' || error.message === 'fetch failed')
      return 'Cannot reach the server. Check your connection and try again.';
    return error.message;
  }
  return String(error);
}
