import { invalidateSoon, type ChangeApplier } from '../realtime/changes.ts';
import { telemetryKeys } from './keys.ts';

/** A new event: every telemetry view of the tenant is refetched (at most every 250 ms). */
export const applyTelemetryChange: ChangeApplier = (queryClient, tenantId) => {
  invalidateSoon(queryClient, telemetryKeys.all(tenantId));
};
