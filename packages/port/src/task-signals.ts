import type { Sql } from './db.ts';

export const TASK_READY_CHANNEL = 'omnilink_task_ready';

/** How often a waiting claim re-checks when notifications cannot be trusted (no LISTEN, or a pooler that drops them). */
export const FALLBACK_POLL_MS = 250;
/** With working notifications, a slow re-check still covers one lost across a reconnect. */
export const LISTENING_POLL_MS = 2_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Wakes long-polling claims when a task becomes ready. The database sends
 * `NOTIFY omnilink_task_ready '<tenant_id> <target>'` whenever a task enters
 * queued/approved (or a dependency succeeds); waiters for that tenant and
 * target are released at once. Whether notifications really arrive is
 * proven by a probe after each (re)connect, because a transaction pooler
 * accepts LISTEN and then never delivers; until proven, waiters poll at 250 ms.
 */
export class TaskSignals {
  #sequence = 0;
  readonly #lastByKey = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #verified = false;
  #probe: { token: string; resolve: () => void } | null = null;
  #unlisten: (() => Promise<void>) | null = null;
  #verification: Promise<boolean> = Promise.resolve(false);

  /** Signals without a database connection: waiters just poll. */
  static polling(): TaskSignals {
    return new TaskSignals();
  }

  /** Starts listening on `sql` (postgres.js opens one dedicated connection for it). */
  static async listen(
    sql: Sql,
    onWarning: (message: string) => void = () => {},
  ): Promise<TaskSignals> {
    const signals = new TaskSignals();
    try {
      const { unlisten } = await sql.listen(
        TASK_READY_CHANNEL,
        (payload) => signals.#receive(payload),
        () => {
          // Called on the first LISTEN and again after every reconnect.
          signals.#verified = false;
          signals.#verification = signals.#verify(sql, onWarning);
        },
      );
      signals.#unlisten = unlisten;
    } catch (error) {
      onWarning(
        `LISTEN failed, long polls will poll every ${FALLBACK_POLL_MS} ms: ${(error as Error).message}`,
      );
    }
    return signals;
  }

  /** True once a probe notification made the round trip. */
  get listening(): boolean {
    return this.#verified;
  }

  /** Settles once the latest probe finished: true when notifications arrive. */
  verified(): Promise<boolean> {
    return this.#verification;
  }

  get pollIntervalMs(): number {
    return this.#verified ? LISTENING_POLL_MS : FALLBACK_POLL_MS;
  }

  /** A position to wait from: take it before looking for tasks, so a notification in between is not missed. */
  cursor(): number {
    return this.#sequence;
  }

  /**
   * Resolves when `key` ("<tenant_id> <target>") was signalled after `since`,
   * at `until` (epoch ms), or when `signal` aborts, whichever comes first.
   */
  wait(key: string, since: number, until: number, signal?: AbortSignal): Promise<void> {
    if ((this.#lastByKey.get(key) ?? 0) > since || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(key) ?? new Set();
      this.#waiters.set(key, waiters);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0) this.#waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, until - Date.now()));
      signal?.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });
  }

  async close(): Promise<void> {
    await this.#unlisten?.().catch(() => {});
    for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake();
  }

  #receive(payload: string): void {
    if (this.#probe && payload === this.#probe.token) {
      this.#probe.resolve();
      return;
    }
    this.#sequence += 1;
    this.#lastByKey.set(payload, this.#sequence);
    const waiters = this.#waiters.get(payload);
    if (waiters) for (const wake of [...waiters]) wake();
  }

  async #verify(sql: Sql, onWarning: (message: string) => void): Promise<boolean> {
    const token = `probe ${crypto.randomUUID()}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arrived = new Promise<boolean>((resolve) => {
      this.#probe = { token, resolve: () => resolve(true) };
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    });
    let delivered = false;
    try {
      await sql`select pg_notify(${TASK_READY_CHANNEL}, ${token})`;
      delivered = await arrived;
    } catch {
      delivered = false;
    } finally {
      clearTimeout(timer);
    }
    // A newer probe (after a reconnect) owns the verdict; this one is stale.
    if (this.#probe?.token !== token) return delivered;
    this.#probe = null;
    this.#verified = delivered;
    if (!delivered) {
      onWarning(
        `Notifications do not arrive on this connection; long polls will poll every ${FALLBACK_POLL_MS} ms.`,
      );
    }
    return delivered;
  }
}
