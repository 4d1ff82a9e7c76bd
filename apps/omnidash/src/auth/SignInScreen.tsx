import { isAuthApiError } from '@supabase/supabase-js';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../data/errors.ts';
import { useSupabase } from '../supabase-context.tsx';

/** Email and password sign-in through Supabase Auth. */
export function SignInScreen() {
  const supabase = useSupabase();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function signIn(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setProblem(null);
    try {
      const { error } = await supabase.auth.signInWithPassword({ email: email.trim(), password });
      if (error) setProblem(signInProblem(error));
      // On success the session provider switches to the dashboard.
    } catch (error) {
      setProblem(errorMessage(error));
    } finally {
      setPending(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <form className="card sign-in-card" onSubmit={signIn} aria-labelledby="sign-in-title">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark" /> OmniDash
        </div>
        <h1 id="sign-in-title">Sign in</h1>
        <p className="muted">Operators of an OmniHub tenant sign in with their email.</p>
        <div className="field">
          <label htmlFor="sign-in-email">Email</label>
          <input
            id="sign-in-email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="sign-in-password">Password</label>
          <input
            id="sign-in-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </div>
        {problem && (
          <p className="form-error" role="alert">
            {problem}
          </p>
        )}
        <button className="btn btn-primary btn-block" type="submit" disabled={pending}>
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function signInProblem(error: Error): string {
  if (isAuthApiError(error)) {
    if (error.code === 'invalid_credentials')
      return 'Wrong email or password. Check both and try again.';
    if (error.code === 'email_not_confirmed')
      return 'This email is not confirmed yet. Follow the link in the confirmation email first.';
    if (error.status === 429) return 'Too many attempts. Wait a minute, then try again.';
  }
  return errorMessage(error);
}
