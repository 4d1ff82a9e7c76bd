import { useEffect } from 'react';

/** The browser tab's title for a screen. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · OmniDash`;
  }, [title]);
}
