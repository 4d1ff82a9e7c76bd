import { EXPOSED_SCHEMA } from './catalog.ts';
import { requestErrors } from './errors.ts';
import type { BodyShape } from './sql-builder.ts';

/** The request headers PostgREST reads besides the token: Accept, Prefer, the profiles and Range. */

export interface Media extends BodyShape {
  contentType: string;
}

const JSON_MEDIA: Media = {
  singular: false,
  stripNulls: false,
  contentType: 'application/json; charset=utf-8',
};

/**
 * Picks the response format from Accept, honouring q-values. JSON arrays by
 * default, one object for application/vnd.pgrst.object+json (supabase-js's
 * single()), and PostgREST's `nulls=stripped` variants; anything else (CSV,
 * plans) is PostgREST's 406.
 */
export function negotiateMedia(accept: string | undefined): Media {
  if (!accept || accept.trim() === '') return JSON_MEDIA;
  const offers = accept
    .split(',')
    .map((entry, order) => {
      const [type = '', ...parameters] = entry.split(';').map((part) => part.trim());
      const params = new Map(
        parameters.map((parameter) => {
          const [name = '', value = ''] = parameter.split('=').map((part) => part.trim());
          return [name.toLowerCase(), value.replace(/^"|"$/g, '')] as const;
        }),
      );
      const q = params.has('q') ? Number(params.get('q')) : 1;
      return {
        type: type.toLowerCase(),
        params,
        q: Number.isNaN(q) ? 0 : q,
        order,
        raw: entry.trim(),
      };
    })
    .filter((offer) => offer.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);

  for (const offer of offers) {
    const stripNulls = offer.params.get('nulls') === 'stripped';
    switch (offer.type) {
      case '*/*':
      case 'application/*':
      case 'application/json':
        return JSON_MEDIA;
      case 'application/vnd.pgrst.array+json':
      case 'application/vnd.pgrst.array':
        return {
          singular: false,
          stripNulls,
          contentType: `application/vnd.pgrst.array+json${stripNulls ? ';nulls=stripped' : ''}; charset=utf-8`,
        };
      case 'application/vnd.pgrst.object+json':
      case 'application/vnd.pgrst.object':
        return {
          singular: true,
          stripNulls,
          contentType: `application/vnd.pgrst.object+json${stripNulls ? ';nulls=stripped' : ''}; charset=utf-8`,
        };
    }
  }
  throw requestErrors.mediaType(offers.length > 0 ? offers.map((offer) => offer.raw) : [accept]);
}

/**
 * Accept-Profile (reads) or Content-Profile (writes) name the schema; only
 * `public` is exposed. Returns whether one was sent: PostgREST then echoes
 * it back in Content-Profile.
 */
export function checkProfile(
  method: string,
  header: (name: string) => string | undefined,
): boolean {
  const name = method === 'GET' || method === 'HEAD' ? 'accept-profile' : 'content-profile';
  const profile = header(name);
  if (profile === undefined) return false;
  if (profile.trim() !== EXPOSED_SCHEMA) throw requestErrors.unacceptableSchema(profile.trim());
  return true;
}

export interface Preferences {
  return: 'representation' | 'minimal' | 'headers-only' | undefined;
  count: 'exact' | 'planned' | 'estimated' | undefined;
  resolution: 'merge-duplicates' | 'ignore-duplicates' | undefined;
  missing: 'default' | 'null' | undefined;
}

/**
 * Prefer: comma-separated `name=value`s (supabase-js appends several, which
 * fetch joins). Unknown or unsupported ones are ignored, as PostgREST does
 * with the default `handling=lenient`.
 */
export function parsePreferences(prefer: string | undefined): Preferences {
  const preferences: Preferences = {
    return: undefined,
    count: undefined,
    resolution: undefined,
    missing: undefined,
  };
  for (const token of (prefer ?? '').split(',')) {
    const [name, value] = token
      .trim()
      .split('=')
      .map((part) => part.trim());
    if (
      name === 'return' &&
      (value === 'representation' || value === 'minimal' || value === 'headers-only')
    )
      preferences.return = value;
    else if (
      name === 'count' &&
      (value === 'exact' || value === 'planned' || value === 'estimated')
    )
      preferences.count = value;
    else if (
      name === 'resolution' &&
      (value === 'merge-duplicates' || value === 'ignore-duplicates')
    )
      preferences.resolution = value;
    else if (name === 'missing' && (value === 'default' || value === 'null'))
      preferences.missing = value;
  }
  return preferences;
}

/** Preference-Applied, listing what was honoured (PostgREST's prefAppliedHeader order). */
export function appliedPreferences(parts: (string | undefined)[]): Record<string, string> {
  const applied = parts.filter((part): part is string => part !== undefined);
  return applied.length > 0 ? { 'Preference-Applied': applied.join(', ') } : {};
}

export interface RowRange {
  offset: number;
  limit: number | undefined;
}

/**
 * The rows a read asks for: limit/offset intersected with a `Range: a-b`
 * header (which PostgREST honours on GET only).
 */
export function requestedRange(
  method: string,
  rangeHeader: string | undefined,
  limit: number | undefined,
  offset: number | undefined,
): RowRange {
  let lower = offset ?? 0;
  let upper = limit === undefined ? Infinity : lower + limit - 1;
  const match =
    method === 'GET' && rangeHeader !== undefined
      ? /^\s*(?:items=)?(\d+)-(\d*)\s*$/.exec(rangeHeader)
      : null;
  if (match) {
    const from = Number(match[1]);
    const to = match[2] === '' ? Infinity : Number(match[2]);
    if (from > to)
      throw requestErrors.invalidRange(
        'The lower boundary must be lower than or equal to the upper boundary in the Range header.',
      );
    lower = Math.max(lower, from);
    upper = Math.min(upper, to);
  }
  return { offset: lower, limit: upper === Infinity ? undefined : Math.max(0, upper - lower + 1) };
}

/**
 * Content-Range as PostgREST writes it: `lower-upper/total`, with `*` for an
 * empty page and for an unknown total (no count asked for).
 */
export function contentRange(lower: number, rows: number, total: number | undefined): string {
  const upper = lower + rows - 1;
  const range = total !== 0 && lower <= upper ? `${lower}-${upper}` : '*';
  return `${range}/${total === undefined ? '*' : total}`;
}
