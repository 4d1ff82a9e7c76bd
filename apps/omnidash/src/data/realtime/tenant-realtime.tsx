import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useSupabase } from '../../supabase-context.tsx';
import {
  applyRunnerSwitchChange,
  applyRunnerTaskChange,
  applyRunnerWorkerChange,
} from '../runner/runner-realtime.ts';
import { applyScheduleChange } from '../schedules/schedules-realtime.ts';
import { applyTaskChange } from '../tasks/tasks-realtime.ts';
import { applyTelemetryChange } from '../telemetry/telemetry-realtime.ts';
import { applyWorkerChange } from '../workers/workers-realtime.ts';
import { refetchAfterChange, type ChangeApplier } from './changes.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

const LiveStatusContext = createContext<LiveStatus>('connecting');

/** The tables the dashboard follows, and where their changes go in the cache. */
const APPLIERS: Record<string, ChangeApplier> = {
  telemetry_events: applyTelemetryChange,
  tasks: (queryClient, tenantId, change) => {
    applyTaskChange(queryClient, tenantId, change);
    applyRunnerTaskChange(queryClient, tenantId, change);
  },
  workers: (queryClient, tenantId, change) => {
    applyWorkerChange(queryClient, tenantId, change);
    applyRunnerWorkerChange(queryClient, tenantId, change);
  },
  task_targets: applyRunnerSwitchChange,
  task_action_limits: applyRunnerSwitchChange,
  task_schedules: applyScheduleChange,
};

/**
 * One Realtime channel per tenant for every screen: the tenant's rows of
 * telemetry_events, tasks, workers, task_targets (pause switches),
 * task_action_limits and task_schedules, folded into the query cache as
 * they change (RLS decides what arrives). Once subscribed, and again after each
 * reconnect, whatever changed meanwhile is refetched.
 */
export function TenantRealtimeProvider({
  tenantId,
  children,
}: {
  tenantId: string;
  children: ReactNode;
}) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('connecting');

  useEffect(() => {
    let current = true;
    setStatus('connecting');
    let channel = supabase.channel(`omnidash:${tenantId}`);
    for (const [table, apply] of Object.entries(APPLIERS)) {
      for (const event of ['INSERT', 'UPDATE'] as const) {
        channel = channel.on(
          'postgres_changes',
          { event, schema: 'public', table, filter: `tenant_id=eq.${tenantId}` },
          (payload) => {
            if (current) apply(queryClient, tenantId, { type: event, new: payload.new });
          },
        );
      }
    }
    let subscribedBefore = false;
    channel.subscribe((state) => {
      if (!current) return;
      if (state === 'SUBSCRIBED') {
        // Whatever changed before the channel was listening (while the
        // screen's first fetches ran, or while it was reconnecting) arrived
        // on no channel: read it all again.
        refetchAfterChange(queryClient, ['tenants', tenantId]);
        subscribedBefore = true;
        setStatus('live');
      } else {
        setStatus(subscribedBefore ? 'reconnecting' : 'connecting');
      }
    });
    return () => {
      current = false;
      void supabase.removeChannel(channel);
    };
  }, [supabase, queryClient, tenantId]);

  return <LiveStatusContext.Provider value={status}>{children}</LiveStatusContext.Provider>;
}

/** Whether changes are arriving live right now. */
export const useLiveStatus = (): LiveStatus => useContext(LiveStatusContext);
