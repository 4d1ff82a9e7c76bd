export const telemetryKeys = {
  all: (tenantId: string) => ['tenants', tenantId, 'telemetry'] as const,
};
