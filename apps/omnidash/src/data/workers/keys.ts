export const workerKeys = {
  all: (tenantId: string) => ['tenants', tenantId, 'workers'] as const,
  list: (tenantId: string) => [...workerKeys.all(tenantId), 'list'] as const,
};
