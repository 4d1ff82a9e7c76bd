import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Sql } from '@omnihub/database';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkApiKey } from '../api-key.ts';
import { asClaims } from '../as-role.ts';
import type { JwtClaims, JwtKit } from '../jwt.ts';
import { matches, parseBinding, type Binding, type Change } from './bindings.ts';
import { ChangeFeed, REALTIME_PUBLICATION, type FeedItem } from './change-feed.ts';
import { decodeFrame, encodeFrame, type Message, type Vsn } from './frames.ts';

export const REALTIME_PATH = '/realtime/v1/websocket';

export interface RealtimeDeps {
  sql: Sql;
  jwt: JwtKit;
  databaseUrl: string;
  log: (line: string) => void;
}

export interface RealtimeServer {
  /** Whether changes stream (false when the database cannot replicate logically). */
  streaming: boolean;
  /** Cuts every client off, as a network failure would (they reconnect by themselves). */
  dropConnections(): void;
  /**
   * The transaction (32-bit id) whose changes arrived before its commit was
   * visible to other sessions, while they wait for it; null when none does.
   */
  waitingFor(): number | null;
  close(): Promise<void>;
}

interface Channel {
  topic: string;
  joinRef: string | null;
  bindings: Binding[];
  claims: JwtClaims;
}

interface Connection {
  socket: WebSocket;
  vsn: Vsn;
  apiKeyClaims: JwtClaims;
  channels: Map<string, Channel>;
  /** Messages are handled one after another, in order, as Phoenix's channel processes do. */
  inbox: Promise<void>;
}

/** Supabase Realtime's default limit of channels per client. */
const MAX_CHANNELS_PER_CONNECTION = 100;
/** Larger frames are refused by ws (close 1009); a join or token update is a few KiB. */
const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Supabase Realtime's postgres_changes over the Phoenix channel protocol, on
 * the stack's HTTP server: joins with bindings (event, schema, table,
 * filter), heartbeats, access-token updates, leaves; changes from logical
 * replication, each INSERT/UPDATE delivered only to subscribers whose token
 * may read the row under RLS (DELETEs carry only the key, as on Supabase).
 */
export async function attachRealtime(server: Server, deps: RealtimeDeps): Promise<RealtimeServer> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const connections = new Set<Connection>();
  let nextBindingId = 1;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      return refuseUpgrade(socket, 400, 'unreadable request path');
    }
    // Nothing else on this server speaks WebSocket.
    if (url.pathname !== REALTIME_PATH) return refuseUpgrade(socket, 404, 'not found');
    const vsn = (url.searchParams.get('vsn') ?? '1.0.0') as Vsn;
    const apiKey = url.searchParams.get('apikey') ?? undefined;
    if (vsn !== '1.0.0' && vsn !== '2.0.0')
      return refuseUpgrade(socket, 400, `unsupported vsn ${vsn}`);
    void checkApiKey(deps.jwt, apiKey).then((check) => {
      if (!check.ok) return refuseUpgrade(socket, 401, check.problem.message);
      wss.handleUpgrade(request, socket, head, (ws) => {
        const connection: Connection = {
          socket: ws,
          vsn,
          apiKeyClaims: check.claims,
          channels: new Map(),
          inbox: Promise.resolve(),
        };
        connections.add(connection);
        ws.on('message', (data) => {
          // In order: an access_token sent while a join is being checked must apply after it.
          connection.inbox = connection.inbox
            .then(() => onMessage(connection, data.toString()))
            .catch((error: unknown) =>
              deps.log(`realtime: a message failed: ${(error as Error).message}`),
            );
        });
        ws.on('close', () => connections.delete(connection));
        ws.on('error', () => ws.terminate());
      });
    });
  };
  server.on('upgrade', onUpgrade);

  const send = (connection: Connection, message: Message) => {
    if (connection.socket.readyState === connection.socket.OPEN)
      connection.socket.send(encodeFrame(message, connection.vsn));
  };
  const reply = (
    connection: Connection,
    request: Message,
    status: 'ok' | 'error',
    response: Record<string, unknown>,
  ) =>
    send(connection, {
      join_ref: request.join_ref,
      ref: request.ref,
      topic: request.topic,
      event: 'phx_reply',
      payload: { status, response },
    });

  async function onMessage(connection: Connection, text: string): Promise<void> {
    let message: Message;
    try {
      message = decodeFrame(text, connection.vsn);
    } catch {
      return; // Phoenix drops what it cannot read.
    }
    switch (message.event) {
      case 'heartbeat':
        return reply(connection, message, 'ok', {});
      case 'phx_join':
        return join(connection, message);
      case 'phx_leave':
        connection.channels.delete(message.topic);
        reply(connection, message, 'ok', {});
        return send(connection, {
          ...message,
          ref: message.join_ref,
          event: 'phx_close',
          payload: {},
        });
      case 'access_token':
        return updateToken(connection, message);
      default:
        // Broadcast and presence are not part of this stand-in; accept them so clients carry on.
        return reply(connection, message, 'ok', {});
    }
  }

  async function join(connection: Connection, message: Message): Promise<void> {
    const config = (message.payload.config ?? {}) as { postgres_changes?: unknown[] };
    const token =
      typeof message.payload.access_token === 'string' ? message.payload.access_token : null;
    let claims: JwtClaims;
    try {
      claims = token ? await deps.jwt.verify(token) : connection.apiKeyClaims;
    } catch (error) {
      return reply(connection, message, 'error', {
        reason: `Invalid JWT: ${(error as Error).message}`,
      });
    }
    if (
      !connection.channels.has(message.topic) &&
      connection.channels.size >= MAX_CHANNELS_PER_CONNECTION
    ) {
      return reply(connection, message, 'error', {
        reason: `Too many channels: at most ${MAX_CHANNELS_PER_CONNECTION} per connection`,
      });
    }
    const requested = Array.isArray(config.postgres_changes) ? config.postgres_changes : [];
    let bindings: Binding[];
    try {
      bindings = requested.map((raw) => parseBinding(raw, nextBindingId++));
      for (const binding of bindings) await checkPublished(binding);
    } catch (error) {
      return reply(connection, message, 'error', { reason: (error as Error).message });
    }
    connection.channels.set(message.topic, {
      topic: message.topic,
      joinRef: message.join_ref ?? message.ref,
      bindings,
      claims,
    });
    // Echo each binding as the client sent it (its ids are how it routes changes).
    reply(connection, message, 'ok', {
      postgres_changes: requested.map((raw, i) => ({
        ...(raw as Record<string, unknown>),
        id: bindings[i]!.id,
      })),
    });
    if (bindings.length > 0) {
      send(connection, {
        join_ref: message.join_ref,
        ref: null,
        topic: message.topic,
        event: 'system',
        payload: {
          channel: message.topic.replace(/^realtime:/, ''),
          extension: 'postgres_changes',
          message: 'Subscribed to PostgreSQL',
          status: 'ok',
        },
      });
    }
  }

  async function updateToken(connection: Connection, message: Message): Promise<void> {
    const channel = connection.channels.get(message.topic);
    const token = message.payload.access_token;
    if (!channel || typeof token !== 'string') return reply(connection, message, 'ok', {});
    try {
      channel.claims = await deps.jwt.verify(token);
      reply(connection, message, 'ok', {});
    } catch (error) {
      // The old token must not go on being used for a client that tried to change it.
      reply(connection, message, 'error', { reason: `Invalid JWT: ${(error as Error).message}` });
      closeChannel(connection, channel, `Invalid JWT: ${(error as Error).message}`);
    }
  }

  // Only names found published are remembered, so made-up names cannot grow it.
  const published = new Set<string>();
  async function checkPublished(binding: Binding): Promise<void> {
    if (binding.table === undefined || binding.table === '*') return;
    const name = `${binding.schema}.${binding.table}`;
    if (!published.has(name)) {
      const rows = await deps.sql`
        select 1 from pg_catalog.pg_publication_tables
        where pubname = ${REALTIME_PUBLICATION} and schemaname = ${binding.schema} and tablename = ${binding.table}`;
      if (rows.length > 0) published.add(name);
    }
    if (!published.has(name)) {
      throw new Error(
        `Unable to subscribe to changes with given parameters: ${name} is not in publication ${REALTIME_PUBLICATION}`,
      );
    }
  }

  /**
   * One change to every channel bound to it that may read it. The RLS checks
   * run at once (one per distinct token, however many channels share it);
   * the sends follow in join order once all are decided. The feed hands on
   * the next change only after this one, so each subscriber gets changes in
   * commit order.
   */
  async function deliver({ change, key }: FeedItem): Promise<void> {
    const verdicts = new Map<string, Promise<boolean>>();
    const mayRead = (claims: JwtClaims) => {
      const id = `${claims.role}:${claims.sub ?? ''}:${claims.session_id ?? ''}`;
      let verdict = verdicts.get(id);
      if (!verdict) {
        verdict = canRead(deps.sql, claims, change, key);
        verdicts.set(id, verdict);
      }
      return verdict;
    };
    const targets: {
      connection: Connection;
      channel: Channel;
      ids: number[];
      claims: JwtClaims;
    }[] = [];
    for (const connection of connections) {
      for (const channel of connection.channels.values()) {
        const ids = channel.bindings
          .filter((binding) => matches(binding, change))
          .map((binding) => binding.id);
        if (ids.length === 0) continue;
        if (typeof channel.claims.exp === 'number' && channel.claims.exp * 1000 < Date.now()) {
          expire(connection, channel);
          continue;
        }
        targets.push({ connection, channel, ids, claims: channel.claims });
        void mayRead(channel.claims);
      }
    }
    for (const { connection, channel, ids, claims } of targets) {
      let allowed = await mayRead(claims);
      // Left while the checks ran: nothing more for it.
      if (connection.channels.get(channel.topic) !== channel) continue;
      // Its token changed while the checks ran: the new one decides.
      if (channel.claims !== claims) allowed = await mayRead(channel.claims);
      if (!allowed) continue;
      send(connection, {
        join_ref: channel.joinRef,
        ref: null,
        topic: channel.topic,
        event: 'postgres_changes',
        payload: { data: change, ids },
      });
    }
  }

  /** A channel whose token ran out stops receiving, as Supabase closes it. */
  function expire(connection: Connection, channel: Channel): void {
    closeChannel(connection, channel, 'Token has expired');
  }

  function closeChannel(connection: Connection, channel: Channel, reason: string): void {
    connection.channels.delete(channel.topic);
    const base = { join_ref: channel.joinRef, ref: null, topic: channel.topic };
    send(connection, {
      ...base,
      event: 'system',
      payload: { extension: 'system', status: 'error', message: reason },
    });
    send(connection, { ...base, event: 'phx_close', payload: {} });
  }

  let feed: ChangeFeed | null = null;
  try {
    feed = await ChangeFeed.start(deps.databaseUrl, deps.sql, deliver, (error) =>
      deps.log(`realtime: could not deliver a change: ${(error as Error).message}`),
    );
  } catch (error) {
    deps.log(
      `realtime: changes will not stream (${(error as Error).message}); is wal_level logical?`,
    );
  }

  return {
    streaming: feed !== null,
    dropConnections() {
      for (const connection of connections) connection.socket.terminate();
    },
    waitingFor: () => feed?.waitingFor ?? null,
    async close() {
      server.off('upgrade', onUpgrade);
      for (const connection of connections) connection.socket.terminate();
      wss.close();
      await feed?.stop();
    },
  };
}

/**
 * Whether `claims` may see the change. An INSERT or UPDATE: the row by its
 * key, selected as that token under RLS, as Supabase Realtime checks it (so
 * it is the row as it is at delivery). A DELETE carries only the key and RLS
 * cannot see a deleted row: it goes to every role that may read the table,
 * and to no other (anon holds no privilege on OmniHub's tables).
 */
async function canRead(
  sql: Sql,
  claims: JwtClaims,
  change: Change,
  key: Record<string, unknown>,
): Promise<boolean> {
  const table = `${quote(change.schema)}.${quote(change.table)}`;
  const columns = Object.keys(key);
  if (columns.length === 0) return false;
  try {
    return await asClaims(sql, claims, async (tx) => {
      if (change.type === 'DELETE') {
        const [row] = await tx.unsafe<{ ok: boolean }[]>(
          `select has_table_privilege(current_user, $1, 'SELECT') as ok`,
          [table],
        );
        return row?.ok === true;
      }
      const where = columns.map((column, i) => `${quote(column)} = $${i + 1}`).join(' and ');
      const rows = await tx.unsafe(
        `select 1 from ${table} where ${where}`,
        columns.map((column) => change.record[column] as never),
      );
      return rows.length > 0;
    });
  } catch {
    // Not even allowed to look (no privilege on the table): not allowed to see the change.
    return false;
  }
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ message });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
