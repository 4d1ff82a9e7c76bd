import type { ReactNode } from 'react';
import { useSupabase } from '../supabase-context.tsx';

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
  const supabase = useSupabase();
  return (
    <main id="main" className="page-message" aria-busy={busy}>
      <h1>{title}</h1>
      {children && <p>{children}</p>}
      {signOut && (
        <button className="btn" type="button" onClick={() => void supabase.auth.signOut()}>
          Sign out
        </button>
      )}
    </main>
  );
}
