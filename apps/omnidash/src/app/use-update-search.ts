import { useCallback } from 'react';
import { useNavigate } from 'react-router';

/**
 * Changes some of the address's query parameters (null or '' removes one),
 * keeping the rest. It starts from the address as it is at the call, not as
 * last rendered: React Router renders navigations in a transition, and its
 * own setSearchParams (the function form too) starts from the rendered
 * params, so a second change made before that render — two filters picked
 * in quick succession — silently undid the first. (The app runs in
 * BrowserRouter, so window.location is the router's location.)
 */
export function useUpdateSearch() {
  const navigate = useNavigate();
  return useCallback(
    (changes: Record<string, string | null>, options: { replace?: boolean } = {}) => {
      const next = new URLSearchParams(window.location.search);
      for (const [name, value] of Object.entries(changes)) {
        if (value === null || value === '') next.delete(name);
        else next.set(name, value);
      }
      navigate({ search: `?${next}` }, options);
    },
    [navigate],
  );
}
