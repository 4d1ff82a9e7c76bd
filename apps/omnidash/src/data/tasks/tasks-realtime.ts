import { invalidateSoon, type ChangeApplier } from '../realtime/changes.ts';
import { taskKeys } from './keys.ts';

export const applyTaskChange: ChangeApplier = (queryClient, tenantId) => {
  invalidateSoon(queryClient, taskKeys.all(tenantId));
};
