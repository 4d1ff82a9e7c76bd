export const apiKeyKeys = {
  /** Everything cached about the tenant's API keys (never a secret: those are not stored). */
  all: (tenantId: string) => ['tenants', tenantId, 'api-keys'] as const,
  /** Every key of the tenant, newest first. */
  list: (tenantId: string) => [...apiKeyKeys.all(tenantId), 'list'] as const,
};
