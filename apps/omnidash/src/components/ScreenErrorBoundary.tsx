import { Component, type ErrorInfo, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/**
 * Keeps a screen's bug from blanking the whole dashboard: the navigation,
 * tenant and sign-out stay, and the screen says what broke with a way to
 * try again. Keyed by the route by its parent, so moving to another screen
 * starts afresh.
 */
export class ScreenErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    // The browser console is where an operator reporting it will look.
    console.error('OmniDash screen failed:', error, info.componentStack);
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <section className="screen">
        <h1>This screen stopped working</h1>
        <div className="card" role="alert">
          <p>Something went wrong while showing it: {error.message}</p>
          <p className="muted">
            The rest of OmniDash still works. Try again, or reload the page if it keeps happening.
          </p>
          <button className="btn" type="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      </section>
    );
  }
}
