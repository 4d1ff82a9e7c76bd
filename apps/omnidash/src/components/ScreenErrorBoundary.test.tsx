// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScreenErrorBoundary } from './ScreenErrorBoundary.tsx';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('ScreenErrorBoundary', () => {
  it('shows what broke in place of the screen, and tries the screen again on request', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    let broken = true;
    function Screen() {
      if (broken) throw new Error('Invalid time value');
      return <h1>Local agents</h1>;
    }
    render(
      <>
        <nav>Main navigation</nav>
        <ScreenErrorBoundary>
          <Screen />
        </ScreenErrorBoundary>
      </>,
    );
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe(
      'This screen stopped working',
    );
    expect(screen.getByRole('alert').textContent).toContain(
      'Something went wrong while showing it: Invalid time value',
    );
    expect(screen.getByText('Main navigation')).toBeTruthy();

    broken = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Local agents');
  });
});
