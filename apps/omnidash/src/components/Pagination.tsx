import type { Page } from '../data/paged-select.ts';
import { formatCount } from './format.ts';

type PageSummary = Pick<Page<unknown>, 'rows' | 'count' | 'exact' | 'hasNext'>;

/** A list's count as the screen says it: "112", or "1,000+" when it is a lower bound. */
export function formatTotal(list: Pick<Page<unknown>, 'count' | 'exact'>): string {
  return list.exact ? formatCount(list.count) : `${formatCount(list.count)}+`;
}

/**
 * "26–50 of 112 · page 2 of 5" and Previous/Next, for a list read a page at
 * a time (`page` 0-based); "1–25 of 1,000+ · page 1" when the list is only
 * known to be longer.
 */
export function Pagination({
  page,
  pageSize,
  list,
  label,
  onPage,
}: {
  page: number;
  pageSize: number;
  /** The page as read: its rows, the list's count and whether another page follows. */
  list: PageSummary;
  /** The navigation's name: "Pages of tasks". */
  label: string;
  onPage: (page: number) => void;
}) {
  const first = page * pageSize + 1;
  const last = page * pageSize + list.rows.length;
  const pages = list.exact ? ` of ${Math.max(1, Math.ceil(list.count / pageSize))}` : '';
  return (
    <nav className="pagination" aria-label={label}>
      <span className="muted">
        {formatCount(first)}–{formatCount(last)} of {formatTotal(list)} · page {page + 1}
        {pages}
      </span>
      <span className="actions">
        <button
          className="btn btn-small"
          type="button"
          disabled={page === 0}
          onClick={() => onPage(page - 1)}
        >
          Previous<span className="visually-hidden"> page</span>
        </button>
        <button
          className="btn btn-small"
          type="button"
          disabled={!list.hasNext}
          onClick={() => onPage(page + 1)}
        >
          Next<span className="visually-hidden"> page</span>
        </button>
      </span>
    </nav>
  );
}

/** What an empty page of a non-empty list says (a page number from an old address), with the way back. */
export function PastLastPage({ onFirstPage }: { onFirstPage: () => void }) {
  return (
    <p>
      This page is past the last one.{' '}
      <button className="btn btn-small" type="button" onClick={onFirstPage}>
        Go to the first page
      </button>
    </p>
  );
}
