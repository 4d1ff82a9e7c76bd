export const settingsKeys = {
  /** Everything cached about the tenant's settings. */
  all: (tenantId: string) => ['tenants', tenantId, 'settings'] as const,
  /** The tenant's OmniLink switch and who changed it last. */
  omnilink: (tenantId: string) => [...settingsKeys.all(tenantId), 'omnilink'] as const,
};
