import type { ReactNode } from 'react';
import { useSignOut } from '../auth/session.tsx';

/** A whole-page state (loading, no tenant, a fatal error), optionally with a way out. */
export function PageMessage({
  title,
  busy = false,
  signOut = false,
  children,
}: {
  title: string;
  busy?: boolean;
  signOut?: boolean;
  children?: ReactNode;
}) {
  const signOutAction = useSignOut();
  return (
    <main id="main" className="page-message" aria-busy={busy}>
      <h1>{title}</h1>
      {children && <p>{children}</p>}
      {signOut && (
        <>
          <button
            className="btn"
            type="button"
            disabled={signOutAction.pending}
            onClick={() => void signOutAction.signOut()}
          >
            Sign out
          </button>
          {signOutAction.error && (
            <p className="form-error" role="alert">
              {signOutAction.error}
            </p>
          )}
        </>
      )}
    </main>
  );
}
