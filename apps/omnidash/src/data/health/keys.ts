export const healthKeys = {
  /** The deployment-wide state of one port: not a tenant's, so not under ['tenants', …]. */
  port: (portUrl: string) => ['port-health', portUrl] as const,
};
