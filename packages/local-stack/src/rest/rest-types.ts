import type { Sql } from '@omnihub/database';
import type { Catalog } from './catalog.ts';
import type { RequestIdentity } from './request-auth.ts';

/** What the handlers share for the life of the app. */
export interface RestContext {
  sql: Sql;
  catalog: Catalog;
  /** PostgREST's db-max-rows: the most rows a read of a table returns (undefined: no limit). */
  maxRows: number | undefined;
}

/** One request, as the handlers see it (independent of Hono). */
export interface RestRequest {
  method: string;
  url: URL;
  header(name: string): string | undefined;
  /** The raw body text ('' when there is none). */
  body(): Promise<string>;
  identity: RequestIdentity;
  /** Whether Accept-Profile/Content-Profile was sent: PostgREST then answers with Content-Profile. */
  profileSent: boolean;
}

export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  /** null for 204, HEAD and return=minimal. */
  body: string | null;
}
