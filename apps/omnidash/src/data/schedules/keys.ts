export const scheduleKeys = {
  /** Everything cached about the tenant's schedules. */
  all: (tenantId: string) => ['tenants', tenantId, 'schedules'] as const,
  /** Every schedule of the tenant, by name. */
  list: (tenantId: string) => [...scheduleKeys.all(tenantId), 'list'] as const,
};
