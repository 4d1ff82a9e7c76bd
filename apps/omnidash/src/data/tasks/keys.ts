export const taskKeys = {
  all: (tenantId: string) => ['tenants', tenantId, 'tasks'] as const,
};
