import { useSession } from '../../auth/session.tsx';
import { usePageTitle } from '../../components/use-page-title.ts';
import { usePortHealthQuery } from '../../data/health/port-health-query.ts';
import { useBackend } from '../../supabase-context.tsx';
import { PortHealthCard } from './PortHealthCard.tsx';
import { TenantSwitchCard } from './TenantSwitchCard.tsx';
import './settings.css';

/** The two OmniLink switches: the tenant's (admins flip it) and the deployment's (read from /health). */
export function SettingsScreen() {
  usePageTitle('Settings');
  const session = useSession();
  const { portUrl } = useBackend();
  const health = usePortHealthQuery();

  return (
    <section className="screen">
      <h1>Settings</h1>
      <div className="grid-2">
        <TenantSwitchCard userId={session.user.id} deployment={health.data} />
        <PortHealthCard
          health={health.data}
          portUrl={portUrl}
          checking={health.isFetching}
          onCheck={() => void health.refetch()}
        />
      </div>
    </section>
  );
}
