export const workerKeys = {
  all: (tenantId: string) => ['tenants', tenantId, 'workers'] as const,
};
