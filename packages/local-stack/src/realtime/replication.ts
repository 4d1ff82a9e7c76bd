import type { Duplex } from 'node:stream';
import postgres from 'postgres';

export interface RelationColumn {
  name: string;
  type: number;
  /** Part of the table's replica identity (its primary key unless set otherwise). */
  key: boolean;
  parser: Parser | undefined;
}

export interface Relation {
  schema: string;
  table: string;
  columns: RelationColumn[];
  keys: RelationColumn[];
}

/** One row change of a committed transaction, as pgoutput streams it. */
export interface ReplicatedChange {
  command: 'insert' | 'update' | 'delete';
  relation: Relation;
  /** The new row (INSERT, UPDATE), or what a DELETE carries: the key (or the old row under REPLICA IDENTITY FULL). */
  row: Record<string, unknown> | null;
  /** An UPDATE's old key (or old row), sent only when the key changed or under REPLICA IDENTITY FULL. */
  old: Record<string, unknown> | null;
  /** The transaction's id, 32 bits as pgoutput sends it (no epoch). */
  xid: number;
  commitTime: Date;
}

export interface ReplicationOptions {
  databaseUrl: string;
  publication: string;
  applicationName: string;
  /** postgres.js custom types: their parsers read the streamed column values. */
  types: Record<string, postgres.PostgresType>;
  onChange: (change: ReplicatedChange) => void;
  onError: (error: unknown) => void;
}

export interface Replication {
  stop(): Promise<void>;
}

/** Milliseconds before each attempt to stream again after the connection was lost (then the last, repeated). */
const RECONNECT_MS = [0, 100, 250, 500, 1_000, 2_000];
/** Microseconds from the Unix epoch to Postgres's (2000-01-01). */
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);

interface Session {
  sql: ReplicationSql;
  stream: Duplex;
}

/**
 * Logical replication with pgoutput on a temporary slot (it goes away with
 * the connection; a new one is made on reconnecting, from then on), read
 * here rather than with postgres.js's subscribe() because that drops the
 * transaction id and commit time of the Begin message, which delivery needs
 * (see ChangeFeed). The walk through the messages follows postgres.js's
 * subscribe.js (protocol version 1: whole transactions, sent once committed).
 */
export async function startReplication(options: ReplicationOptions): Promise<Replication> {
  let stopped = false;
  let current: Session | null = null;
  let reopening: Promise<void> | null = null;

  /** One replication session on a postgres.js instance of its own, thrown away when the session ends. */
  async function open(): Promise<void> {
    const sql = postgres(options.databaseUrl, {
      max: 1,
      fetch_types: false,
      // A server that does not answer is tried again (see lost()) rather than waited on for long.
      connect_timeout: 10,
      // Never closed for idling or age (0 turns both off): the stream is the connection.
      idle_timeout: 0,
      max_lifetime: 0,
      onnotice: () => {},
      types: options.types,
      connection: { application_name: options.applicationName, replication: 'database' } as never,
      // The internal option subscribe.js uses too: this instance must not make a subscriber of its own.
      no_subscribe: true,
      onclose: () => lost(sql),
    } as postgres.Options<Record<string, postgres.PostgresType>>) as ReplicationSql;
    try {
      const slot = `omnihub_realtime_${Math.random().toString(36).slice(2)}`;
      const [created] = await sql.unsafe(
        `CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`,
      );
      const stream = (await sql
        .unsafe(
          `START_REPLICATION SLOT ${slot} LOGICAL ${created!.consistent_point} (proto_version '1', publication_names '${options.publication}')`,
        )
        .writable()) as unknown as Duplex;
      const reader = new PgOutputReader(sql.options.parsers as Parsers, options.onChange);
      stream.on('data', (message: Buffer) => {
        try {
          const reply = reader.read(message);
          if (reply) stream.write(reply);
        } catch (error) {
          options.onError(error);
        }
      });
      stream.on('error', (error) => {
        if (!stopped) options.onError(error);
      });
      stream.on('end', () => lost(sql));
      stream.on('close', () => lost(sql));
      current = { sql, stream };
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => {});
      throw error;
    }
  }

  /**
   * The session on `sql` ended (the server went away, or ended the stream):
   * discard it and stream again, from a timer, outside postgres.js's own
   * close handling (a query queued from there never ran).
   */
  function lost(sql: ReplicationSql): void {
    if (stopped || current?.sql !== sql) return;
    current = null;
    void sql.end({ timeout: 0 }).catch(() => {});
    reopening = (async () => {
      for (let attempt = 0; !stopped; attempt++) {
        await new Promise((resolve) =>
          setTimeout(resolve, RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)]),
        );
        if (stopped) return;
        try {
          return await open();
        } catch (error) {
          options.onError(error);
        }
      }
    })().finally(() => (reopening = null));
  }

  await open();
  return {
    async stop() {
      stopped = true;
      await reopening;
      const session = current as Session | null;
      current = null;
      if (!session) return;
      // CopyDone ends the stream; end() then closes the connection (cut off if it takes over 2 s).
      if (!session.stream.destroyed) session.stream.end();
      await session.sql.end({ timeout: 2 }).catch(() => {});
    },
  };
}

type ReplicationSql = postgres.Sql<Record<string, postgres.PostgresType>>;
/** postgres.js's parser for a type; an array type's skips the literal's opening brace (as subscribe.js does). */
type Parser = ((text: string) => unknown) & { array?: boolean };
type Parsers = Record<number, Parser | undefined>;

/**
 * The messages of one replication session: XLogData carrying pgoutput
 * (Relation, Begin, Insert, Update, Delete, Commit; the rest skipped), and
 * keepalives, answered when the server asks.
 */
export class PgOutputReader {
  readonly #relations = new Map<number, Relation>();
  readonly #parsers: Parsers;
  readonly #onChange: (change: ReplicatedChange) => void;
  #xid = 0;
  #commitTime = new Date(0);

  constructor(parsers: Parsers, onChange: (change: ReplicatedChange) => void) {
    this.#parsers = parsers;
    this.#onChange = onChange;
  }

  /** Reads one CopyData message; returns the standby status update to send, if one is due. */
  read(message: Buffer): Buffer | null {
    // 'w': XLogData (start LSN, end LSN, send time: 24 bytes), then a pgoutput message.
    if (message[0] === 0x77) {
      this.#pgoutput(message.subarray(25));
      return null;
    }
    // 'k': keepalive (end LSN, send time, reply-requested flag).
    if (message[0] === 0x6b && message[17]) return standbyStatus(message.subarray(1, 9));
    return null;
  }

  #pgoutput(x: Buffer): void {
    switch (x[0]) {
      case 0x52: // 'R' Relation
        return this.#relation(x);
      case 0x42: // 'B' Begin: final LSN, commit time (µs since 2000), xid
        this.#commitTime = new Date(POSTGRES_EPOCH_MS + Number(x.readBigInt64BE(9) / 1000n));
        this.#xid = x.readUInt32BE(17);
        return;
      case 0x49: {
        // 'I' Insert: relation, 'N', new tuple
        const relation = this.#relationOf(x);
        return this.#emit('insert', relation, this.#tuple(x, relation, 8).row, null);
      }
      case 0x55: {
        // 'U' Update: relation, then 'K' key or 'O' old tuple (optional), then 'N' new tuple
        const relation = this.#relationOf(x);
        const old = x[5] === 0x4b || x[5] === 0x4f ? this.#tuple(x, relation, 8) : null;
        const next = this.#tuple(x, relation, (old ? old.end : 5) + 3);
        return this.#emit('update', relation, next.row, old?.row ?? null);
      }
      case 0x44: {
        // 'D' Delete: relation, 'K' key or 'O' old tuple
        const relation = this.#relationOf(x);
        const row = x[5] === 0x4b || x[5] === 0x4f ? this.#tuple(x, relation, 8).row : null;
        return this.#emit('delete', relation, row, null);
      }
      default:
        // Commit, Origin, Type, Truncate, Message: nothing a subscriber is sent.
        return;
    }
  }

  #emit(
    command: ReplicatedChange['command'],
    relation: Relation,
    row: Record<string, unknown> | null,
    old: Record<string, unknown> | null,
  ): void {
    this.#onChange({ command, relation, row, old, xid: this.#xid, commitTime: this.#commitTime });
  }

  #relationOf(x: Buffer): Relation {
    const relation = this.#relations.get(x.readUInt32BE(1));
    if (!relation)
      throw new Error(
        `pgoutput: a change for relation ${x.readUInt32BE(1)} came before its Relation message`,
      );
    return relation;
  }

  #relation(x: Buffer): void {
    let i = 5;
    const schemaEnd = x.indexOf(0, i);
    const schema = x.toString('utf8', i, schemaEnd) || 'pg_catalog';
    i = schemaEnd + 1;
    const tableEnd = x.indexOf(0, i);
    const table = x.toString('utf8', i, tableEnd);
    i = tableEnd + 2; // the terminator and the replica identity setting
    const count = x.readUInt16BE(i);
    i += 2;
    const columns: RelationColumn[] = [];
    for (let c = 0; c < count; c++) {
      const key = x[i++] === 1;
      const nameEnd = x.indexOf(0, i);
      const name = x.toString('utf8', i, nameEnd);
      const type = x.readUInt32BE(nameEnd + 1);
      i = nameEnd + 1 + 8; // type oid and type modifier
      columns.push({ name, type, key, parser: this.#parsers[type] });
    }
    this.#relations.set(x.readUInt32BE(1), {
      schema,
      table,
      columns,
      keys: columns.filter((column) => column.key),
    });
  }

  /** TupleData from `start` (just past its column count): each value null ('n'), unchanged TOAST ('u', left out) or text ('t'). */
  #tuple(x: Buffer, relation: Relation, start: number) {
    const row: Record<string, unknown> = {};
    let i = start;
    for (const column of relation.columns) {
      const kind = x[i++];
      if (kind === 0x6e) row[column.name] = null;
      else if (kind === 0x74) {
        const length = x.readUInt32BE(i);
        const text = x.toString('utf8', i + 4, i + 4 + length);
        i += 4 + length;
        const parser = column.parser;
        row[column.name] = parser ? parser(parser.array === true ? text.slice(1) : text) : text;
      }
    }
    return { row, end: i };
  }
}

/** Standby status update: written, flushed and applied up to `lsn`, now, no reply wanted. */
function standbyStatus(lsn: Buffer): Buffer {
  const reply = Buffer.alloc(34);
  reply[0] = 0x72; // 'r'
  lsn.copy(reply, 1);
  lsn.copy(reply, 9);
  lsn.copy(reply, 17);
  reply.writeBigInt64BE(BigInt(Date.now() - POSTGRES_EPOCH_MS) * 1000n, 25);
  return reply;
}
