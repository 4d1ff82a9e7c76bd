import type { Sql } from '@omnihub/database';
import type { Change } from './bindings.ts';
import {
  startReplication,
  type Relation,
  type Replication,
  type ReplicatedChange,
} from './replication.ts';
import { waitUntilVisible } from './visibility.ts';

export const REALTIME_PUBLICATION = 'supabase_realtime';

/** A change plus what identifies its row, for the per-subscriber RLS check. */
export interface FeedItem {
  change: Change;
  /** Primary-key values of the row (empty when the table has none). */
  key: Record<string, unknown>;
}

/**
 * Streams the changes of the tables in publication supabase_realtime, as
 * Supabase Realtime does: logical replication with pgoutput (see
 * replication.ts). Changes are handed on one at a time, in commit order,
 * each once its transaction is visible to other sessions: the per-subscriber
 * RLS check reads the row in a new snapshot, and a client refetching on a
 * change must find it too.
 */
export class ChangeFeed {
  readonly #sql: Sql;
  readonly #typeNames = new Map<number, string>();
  readonly #onError: (error: unknown) => void;
  #replication: Replication | null = null;
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The last transaction seen visible: its further changes need no second look. */
  #visibleXid: number | null = null;
  #waitingFor: number | null = null;

  private constructor(sql: Sql, onError: (error: unknown) => void) {
    this.#sql = sql;
    this.#onError = onError;
  }

  /** Throws when logical replication is not available (wal_level is not logical, or no replication right). */
  static async start(
    databaseUrl: string,
    sql: Sql,
    deliver: (item: FeedItem) => Promise<void>,
    onError: (error: unknown) => void,
  ): Promise<ChangeFeed> {
    const feed = new ChangeFeed(sql, onError);
    feed.#replication = await startReplication({
      databaseUrl,
      publication: REALTIME_PUBLICATION,
      applicationName: 'omnihub-realtime',
      // Times stay Postgres's text: a JS Date would cut microseconds off (asJson re-renders them).
      types: {
        timestamptzText: {
          to: 1184,
          from: [1184],
          serialize: String,
          parse: (text: string) => text,
        },
        timestampText: { to: 1114, from: [1114], serialize: String, parse: (text: string) => text },
        dateText: { to: 1082, from: [1082], serialize: String, parse: (text: string) => text },
      },
      onChange: (change) => {
        // Serial: a subscriber must see queued → running → succeeded in that order.
        feed.#queue = feed.#queue
          .then(async () => {
            if (!(await feed.#visible(change.xid))) return;
            await deliver(await feed.#toItem(change));
          })
          .catch(onError);
      },
      onError,
    });
    return feed;
  }

  /** The transaction whose changes arrived before its commit was visible, while they wait for it (later ones queue behind). */
  get waitingFor(): number | null {
    return this.#waitingFor;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#replication?.stop();
    await this.#queue;
  }

  async #visible(xid: number): Promise<boolean> {
    if (xid === this.#visibleXid) return true;
    this.#waitingFor = xid;
    try {
      const visible = await waitUntilVisible(this.#sql, xid, {
        stopped: () => this.#stopped,
        onSlow: (waitedMs) =>
          this.#onError(
            new Error(
              `transaction ${xid} committed ${Math.round(waitedMs / 1000)} s ago and is still not visible (a synchronous standby not confirming?); its changes and later ones wait for it`,
            ),
          ),
      });
      if (visible) this.#visibleXid = xid;
      return visible;
    } finally {
      this.#waitingFor = null;
    }
  }

  async #toItem(info: ReplicatedChange): Promise<FeedItem> {
    const { relation, row } = info;
    const columns = await Promise.all(
      relation.columns.map(async (column) => ({
        name: column.name,
        type: await this.#typeName(column.type),
      })),
    );
    const keyOf = (source: Record<string, unknown> | null) =>
      Object.fromEntries(
        relation.keys.map((column) => [column.name, source?.[column.name] ?? null]),
      );
    const type = info.command.toUpperCase() as Change['type'];
    const base = {
      type,
      schema: relation.schema,
      table: relation.table,
      commit_timestamp: info.commitTime.toISOString(),
      columns,
      errors: null,
    } as const;
    if (type === 'DELETE') {
      // Without REPLICA IDENTITY FULL a delete carries only the key, as on Supabase.
      const key = keyOf(row);
      return {
        change: { ...base, record: {}, old_record: await this.#asJson(relation, key, true) },
        key,
      };
    }
    const record = await this.#asJson(relation, row ?? {}, false);
    const key = keyOf(row);
    const old = info.old
      ? await this.#asJson(relation, keyOf(info.old), true)
      : await this.#asJson(relation, key, true);
    return { change: { ...base, record, old_record: type === 'UPDATE' ? old : {} }, key };
  }

  /**
   * The row as Postgres renders it in JSON (what PostgREST returns too):
   * the replicated values are cast back through the table's row type.
   */
  async #asJson(
    relation: Relation,
    values: Record<string, unknown>,
    keysOnly: boolean,
  ): Promise<Record<string, unknown>> {
    const [result] = await this.#sql`
      select to_jsonb(jsonb_populate_record(null::${this.#sql(`${relation.schema}.${relation.table}`)}, ${this.#sql.json(values as never)}::jsonb)) as r`;
    const full = result!.r as Record<string, unknown>;
    if (!keysOnly) return full;
    return Object.fromEntries(Object.keys(values).map((name) => [name, full[name]]));
  }

  async #typeName(oid: number): Promise<string> {
    let name = this.#typeNames.get(oid);
    if (name === undefined) {
      const [row] = await this.#sql`select typname from pg_catalog.pg_type where oid = ${oid}`;
      name = (row?.typname as string | undefined) ?? String(oid);
      this.#typeNames.set(oid, name);
    }
    return name;
  }
}
