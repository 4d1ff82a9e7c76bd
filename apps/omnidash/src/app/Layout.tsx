import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useSession, useSignOut } from '../auth/session.tsx';
import { ScreenErrorBoundary } from '../components/ScreenErrorBoundary.tsx';
import type { Membership } from '../data/memberships/memberships-query.ts';
import { useLiveStatus } from '../data/realtime/tenant-realtime.tsx';
import { useTenant } from '../tenant/tenant-context.tsx';

/** The main navigation, in order: one entry per screen. */
const NAV = [
  { to: '/omnidash/local-agents', label: 'Local agents' },
  { to: '/omnidash/tasks', label: 'Tasks' },
  { to: '/omnidash/runner', label: 'Runner' },
  { to: '/omnidash/dead-letters', label: 'Dead letters' },
  { to: '/omnidash/schedules', label: 'Schedules' },
  { to: '/omnidash/integrations', label: 'Integrations' },
  { to: '/omnidash/settings', label: 'Settings' },
];

const LIVE_LABEL = {
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
} as const;

export function Layout({
  memberships,
  onSwitchTenant,
}: {
  memberships: Membership[];
  onSwitchTenant: (slug: string) => void;
}) {
  const session = useSession();
  const tenant = useTenant();
  const live = useLiveStatus();
  const location = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const shownPath = useRef(location.pathname);

  // A new screen: focus goes to its content (as a page load would start
  // there), not left on the link that was followed.
  useEffect(() => {
    if (shownPath.current === location.pathname) return;
    shownPath.current = location.pathname;
    mainRef.current?.focus({ preventScroll: true });
  }, [location.pathname]);

  const signOut = useSignOut();

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-row">
          <span className="brand">
            <span className="brand-mark" aria-hidden="true" />{' '}
            <span className="brand-text">OmniDash</span>
          </span>
          <div className="topbar-tenant">
            {memberships.length > 1 ? (
              <label className="inline-field">
                <span className="visually-hidden">Tenant</span>
                <select
                  value={tenant.slug}
                  onChange={(event) => onSwitchTenant(event.target.value)}
                >
                  {memberships.map((membership) => (
                    <option key={membership.slug} value={membership.slug}>
                      {membership.name}
                    </option>
                  ))}
                </select>
              </label>
            ) : (
              <span className="tenant-name">{tenant.name}</span>
            )}
            <span className="badge" title="Your role in this tenant">
              {tenant.role}
            </span>
          </div>
          <span className={`live live-${live}`} role="status" aria-live="polite">
            {LIVE_LABEL[live]}
          </span>
          <span className="topbar-user muted">{session.user.email}</span>
          <button
            className="btn btn-quiet"
            type="button"
            disabled={signOut.pending}
            onClick={() => void signOut.signOut()}
          >
            {signOut.pending ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
        {signOut.error && (
          <p className="form-error topbar-error" role="alert">
            {signOut.error}
          </p>
        )}
        <nav aria-label="Main">
          <ul className="nav">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to}>{item.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" className="content" tabIndex={-1} ref={mainRef}>
        <ScreenErrorBoundary key={location.pathname}>
          <Outlet />
        </ScreenErrorBoundary>
      </main>
    </>
  );
}
