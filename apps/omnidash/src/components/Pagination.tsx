import { formatCount } from './format.ts';

/** "26–50 of 112 · page 2 of 5" and Previous/Next, for a list read a page at a time (`page` 0-based). */
export function Pagination({
  page,
  pageSize,
  count,
  shown,
  label,
  onPage,
}: {
  page: number;
  pageSize: number;
  /** Rows in the whole list. */
  count: number;
  /** Rows on this page. */
  shown: number;
  /** The navigation's name: "Pages of tasks". */
  label: string;
  onPage: (page: number) => void;
}) {
  const first = page * pageSize + 1;
  const last = page * pageSize + shown;
  const pages = Math.max(1, Math.ceil(count / pageSize));
  return (
    <nav className="pagination" aria-label={label}>
      <span className="muted">
        {formatCount(first)}–{formatCount(last)} of {formatCount(count)} · page {page + 1} of{' '}
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
          disabled={page + 1 >= pages}
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
