import type { AgentDefinition } from '@omnihub/connector';
import { apexSalesHandlers } from './handlers.ts';
import { simulateApexSales } from './simulate.ts';

export const apexSalesAgent: AgentDefinition = {
  name: 'APEX-Sales',
  source: 'apex-sales',
  envPrefix: 'APEX_SALES',
  simulate: simulateApexSales,
  handlers: apexSalesHandlers,
  // One dialer line per worker: calls run one at a time; echo and others alongside.
  workerOptions: () => ({ actionConcurrency: { call_lead: 1 } }),
};
