export const integrationKeys = {
  /** Everything cached about the tenant's integrations. */
  all: (tenantId: string) => ['tenants', tenantId, 'integrations'] as const,
  /** The tenant's integrations, by source. */
  list: (tenantId: string) => [...integrationKeys.all(tenantId), 'list'] as const,
};
