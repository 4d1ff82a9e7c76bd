/**
 * Runs requests of one kind in groups: one database call for every request
 * that arrived while earlier calls were running. When idle a request goes at
 * once, alone; under load, requests wait for a running call to finish and
 * then go together, so the database pays a call's fixed costs (round trip,
 * statement, commit) once per group. The SQL side must give each request
 * the outcome it would get alone (see omnilink.port_emit_event_requests).
 */
export interface RequestGroupsOptions<T> {
  /**
   * While a call runs, another starts only once the waiting requests weigh
   * this much together: small requests queue behind one call and go as a
   * group, large ones (worth a call of their own) run side by side.
   */
  overlapWeight: number;
  /** Calls running at once, at most. */
  maxRunning: number;
  /** A group stops growing at this weight (a lone heavier request still runs). */
  maxWeight: number;
  weigh: (request: T) => number;
}

interface Waiting<T, R> {
  request: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class RequestGroups<T, R> {
  readonly #waiting: Waiting<T, R>[] = [];
  #running = 0;

  /** `run` returns one result per request, in the order given. */
  constructor(
    private readonly run: (requests: T[]) => Promise<R[]>,
    private readonly options: RequestGroupsOptions<T>,
  ) {}

  submit(request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ request, resolve, reject });
      this.#startGroups();
    });
  }

  #startGroups(): void {
    while (this.#waiting.length > 0 && this.#mayStart()) {
      const group = this.#takeGroup();
      this.#running += 1;
      void this.#runGroup(group).finally(() => {
        this.#running -= 1;
        this.#startGroups();
      });
    }
  }

  #mayStart(): boolean {
    if (this.#running === 0) return true;
    if (this.#running >= this.options.maxRunning) return false;
    let weight = 0;
    for (const waiting of this.#waiting) {
      weight += this.options.weigh(waiting.request);
      if (weight >= this.options.overlapWeight) return true;
    }
    return false;
  }

  #takeGroup(): Waiting<T, R>[] {
    let weight = this.options.weigh(this.#waiting[0]!.request);
    let size = 1;
    while (size < this.#waiting.length) {
      const next = this.options.weigh(this.#waiting[size]!.request);
      if (weight + next > this.options.maxWeight) break;
      weight += next;
      size += 1;
    }
    return this.#waiting.splice(0, size);
  }

  async #runGroup(group: Waiting<T, R>[]): Promise<void> {
    try {
      const results = await this.run(group.map((waiting) => waiting.request));
      if (results.length !== group.length) {
        throw new Error(`A group of ${group.length} requests got ${results.length} results.`);
      }
      group.forEach((waiting, i) => waiting.resolve(results[i]!));
    } catch (error) {
      if (group.length === 1 || !isStatementError(error)) {
        for (const waiting of group) waiting.reject(error);
        return;
      }
      // The database refused the statement (say, one request's timestamp it
      // cannot hold) and stored nothing of the group: each request runs
      // alone, so only the one at fault gets the error.
      await Promise.all(
        group.map(async (waiting) => {
          try {
            const [result] = await this.run([waiting.request]);
            waiting.resolve(result!);
          } catch (alone) {
            waiting.reject(alone);
          }
        }),
      );
    }
  }
}

/** An error Postgres raised for the statement (postgres.js's PostgresError), not a lost connection. */
function isStatementError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'PostgresError';
}
