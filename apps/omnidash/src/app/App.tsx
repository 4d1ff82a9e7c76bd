import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { SessionProvider, useSessionState } from '../auth/session.tsx';
import { SignInScreen } from '../auth/SignInScreen.tsx';
import { PageMessage } from '../components/PageMessage.tsx';
import { errorMessage } from '../data/errors.ts';
import { useMembershipsQuery } from '../data/memberships/memberships-query.ts';
import { TenantRealtimeProvider } from '../data/realtime/tenant-realtime.tsx';
import { DeadLettersScreen } from '../screens/dead-letters/DeadLettersScreen.tsx';
import { IntegrationsScreen } from '../screens/integrations/IntegrationsScreen.tsx';
import { LocalAgentsScreen } from '../screens/local-agents/LocalAgentsScreen.tsx';
import { NotFoundScreen } from '../screens/NotFoundScreen.tsx';
import { RunnerScreen } from '../screens/runner/RunnerScreen.tsx';
import { SchedulesScreen } from '../screens/schedules/SchedulesScreen.tsx';
import { SettingsScreen } from '../screens/settings/SettingsScreen.tsx';
import { TaskDetailScreen } from '../screens/tasks/TaskDetailScreen.tsx';
import { TasksScreen } from '../screens/tasks/TasksScreen.tsx';
import { BackendProvider, type Backend } from '../supabase-context.tsx';
import { rememberedTenant, rememberTenant, TenantProvider } from '../tenant/tenant-context.tsx';
import { Layout } from './Layout.tsx';
import { createQueryClient } from './query-client.ts';

export function App({
  backend,
  queryClient = createQueryClient(),
}: {
  backend: Backend;
  queryClient?: QueryClient;
}) {
  return (
    <BackendProvider backend={backend}>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <BrowserRouter>
            <SessionGate />
          </BrowserRouter>
        </SessionProvider>
      </QueryClientProvider>
    </BackendProvider>
  );
}

/** Signed out, any address shows the sign-in form; signed in, the same address shows its screen. */
function SessionGate() {
  const state = useSessionState();
  if (state.status === 'loading') return <PageMessage title="Loading…" busy />;
  if (state.status === 'signed-out') return <SignInScreen />;
  return <SignedIn userId={state.session.user.id} />;
}

function SignedIn({ userId }: { userId: string }) {
  const memberships = useMembershipsQuery(userId);
  const [chosenSlug, setChosenSlug] = useState<string | null>(null);

  if (memberships.isPending) return <PageMessage title="Loading your tenants…" busy />;
  if (memberships.isError) {
    return (
      <PageMessage title="Your tenants could not be loaded" signOut>
        {errorMessage(memberships.error)}
      </PageMessage>
    );
  }
  const all = memberships.data;
  const membership =
    all.find((candidate) => candidate.slug === chosenSlug) ?? rememberedTenant(all);
  if (!membership) {
    return (
      <PageMessage title="No tenant yet" signOut>
        Your account is not a member of any tenant. Ask an admin of your tenant to add you.
      </PageMessage>
    );
  }
  const switchTenant = (slug: string) => {
    rememberTenant(slug);
    setChosenSlug(slug);
  };

  return (
    <TenantProvider key={membership.tenantId} membership={membership}>
      <TenantRealtimeProvider tenantId={membership.tenantId}>
        <Routes>
          <Route element={<Layout memberships={all} onSwitchTenant={switchTenant} />}>
            <Route index element={<Navigate to="/omnidash/local-agents" replace />} />
            <Route path="omnidash">
              <Route index element={<Navigate to="/omnidash/local-agents" replace />} />
              <Route path="local-agents" element={<LocalAgentsScreen />} />
              <Route path="tasks" element={<TasksScreen />} />
              <Route path="tasks/:taskId" element={<TaskDetailScreen />} />
              <Route path="runner" element={<RunnerScreen />} />
              <Route path="dead-letters" element={<DeadLettersScreen />} />
              <Route path="schedules" element={<SchedulesScreen />} />
              <Route path="integrations" element={<IntegrationsScreen />} />
              <Route path="settings" element={<SettingsScreen />} />
            </Route>
            <Route path="*" element={<NotFoundScreen />} />
          </Route>
        </Routes>
      </TenantRealtimeProvider>
    </TenantProvider>
  );
}
