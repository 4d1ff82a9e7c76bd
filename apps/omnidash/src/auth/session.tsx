import type { Session } from '@supabase/supabase-js';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { errorMessage } from '../data/errors.ts';
import { forgetTenant } from '../tenant/tenant-context.tsx';
import { useSupabase } from '../supabase-context.tsx';

export type SessionState =
  { status: 'loading' } | { status: 'signed-out' } | { status: 'signed-in'; session: Session };

const SessionContext = createContext<SessionState>({ status: 'loading' });

/**
 * The signed-in user, as supabase-js keeps it (in localStorage, refreshed
 * before it expires). Signing out, here or in another tab, drops every
 * cached query, so the next user never sees the last one's data.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  useEffect(() => {
    // Fires INITIAL_SESSION at once with the stored session (or none).
    const { data } = supabase.auth.onAuthStateChange((event, session) => {
      if (event === 'SIGNED_OUT') queryClient.clear();
      setState(session ? { status: 'signed-in', session } : { status: 'signed-out' });
    });
    return () => data.subscription.unsubscribe();
  }, [supabase, queryClient]);

  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>;
}

export const useSessionState = (): SessionState => useContext(SessionContext);

/** The session of a screen that is only shown signed in. */
export function useSession(): Session {
  const state = useSessionState();
  if (state.status !== 'signed-in') throw new Error('useSession is for signed-in screens.');
  return state.session;
}

/**
 * A sign-out button's action. supabase-js keeps the session when the auth
 * server cannot be reached (only a server that no longer knows the session
 * lets it go), so the user is told, stays signed in and can try again,
 * rather than believing a session ended that is still valid.
 */
export function useSignOut(): {
  signOut: () => Promise<void>;
  pending: boolean;
  error: string | null;
} {
  const supabase = useSupabase();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function signOut() {
    setPending(true);
    setError(null);
    const result = await supabase.auth.signOut();
    setPending(false);
    if (result.error) {
      setError(`Could not sign out, so you are still signed in. ${errorMessage(result.error)}`);
      return;
    }
    // The next person on this browser starts from their own first tenant.
    forgetTenant();
  }
  return { signOut, pending, error };
}
