// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatTotal, Pagination } from './Pagination.tsx';

afterEach(cleanup);

const rows = (n: number) => Array.from({ length: n }, (_, i) => i);

function renderPagination(page: number, list: Parameters<typeof Pagination>[0]['list']) {
  const onPage = vi.fn();
  render(
    <Pagination page={page} pageSize={25} list={list} label="Pages of tasks" onPage={onPage} />,
  );
  const nav = screen.getByRole('navigation', { name: 'Pages of tasks' });
  const next = screen.getByRole('button', { name: 'Next page' }) as HTMLButtonElement;
  const previous = screen.getByRole('button', { name: 'Previous page' }) as HTMLButtonElement;
  // The words before the buttons.
  const summary = nav.firstElementChild!.textContent;
  return { summary, next, previous, onPage };
}

describe('Pagination', () => {
  it('says the range, the exact count and the pages', () => {
    const { summary, next, previous } = renderPagination(1, {
      rows: rows(25),
      count: 112,
      exact: true,
      hasNext: true,
    });
    expect(summary).toBe('26–50 of 112 · page 2 of 5');
    expect(next.disabled).toBe(false);
    expect(previous.disabled).toBe(false);
  });

  it('says a count that is a lower bound as "1,000+", without a number of pages', () => {
    const { summary, next, onPage } = renderPagination(0, {
      rows: rows(25),
      count: 1000,
      exact: false,
      hasNext: true,
    });
    expect(summary).toBe('1–25 of 1,000+ · page 1');
    fireEvent.click(next);
    expect(onPage).toHaveBeenCalledWith(1);
  });

  it('offers Next only when a page follows', () => {
    expect(
      renderPagination(4, { rows: rows(12), count: 112, exact: true, hasNext: false }).next
        .disabled,
    ).toBe(true);
    cleanup();
    // A page past the first 1,000 rows still leads on while rows follow.
    const { summary, next } = renderPagination(49, {
      rows: rows(25),
      count: 1250,
      exact: false,
      hasNext: true,
    });
    expect(summary).toBe('1,226–1,250 of 1,250+ · page 50');
    expect(next.disabled).toBe(false);
  });
});

describe('formatTotal', () => {
  it('writes an exact count as it is and a lower bound with a plus', () => {
    expect(formatTotal({ count: 112, exact: true })).toBe('112');
    expect(formatTotal({ count: 1000, exact: false })).toBe('1,000+');
  });
});
