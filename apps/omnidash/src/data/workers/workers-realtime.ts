import { invalidateSoon, type ChangeApplier } from '../realtime/changes.ts';
import { workerKeys } from './keys.ts';

export const applyWorkerChange: ChangeApplier = (queryClient, tenantId) => {
  invalidateSoon(queryClient, workerKeys.all(tenantId));
};
