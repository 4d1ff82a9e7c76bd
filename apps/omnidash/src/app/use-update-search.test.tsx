// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { BrowserRouter, useSearchParams } from 'react-router';
import { afterEach, describe, expect, it } from 'vitest';
import { useUpdateSearch } from './use-update-search.ts';

afterEach(() => {
  cleanup();
  window.history.replaceState(null, '', '/');
});

function Filters() {
  const [search] = useSearchParams();
  const updateSearch = useUpdateSearch();
  return (
    <>
      <output>{search.toString()}</output>
      <button
        type="button"
        onClick={() => {
          // Two changes before any render, as two quick picks can land.
          updateSearch({ status: 'succeeded', page: null });
          updateSearch({ target: 'apex-sales', page: null });
        }}
      >
        Pick both
      </button>
      <button type="button" onClick={() => updateSearch({ status: null })}>
        Clear status
      </button>
    </>
  );
}

describe('useUpdateSearch', () => {
  it('keeps a change made before the previous one has rendered', async () => {
    window.history.replaceState(null, '', '/tasks?page=3');
    render(
      <BrowserRouter>
        <Filters />
      </BrowserRouter>,
    );
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Pick both' })));
    expect(new URLSearchParams(window.location.search).toString()).toBe(
      'status=succeeded&target=apex-sales',
    );
    expect(window.location.pathname).toBe('/tasks');
    expect(screen.getByRole('status').textContent).toBe('status=succeeded&target=apex-sales');

    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Clear status' })));
    expect(window.location.search).toBe('?target=apex-sales');
  });
});
