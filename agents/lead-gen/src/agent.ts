import type { AgentDefinition } from '@omnihub/connector';
import { leadGenHandlers } from './handlers.ts';
import { simulateLeadGen } from './simulate.ts';

export const leadGenAgent: AgentDefinition = {
  name: 'Lead-Gen',
  source: 'lead-gen',
  envPrefix: 'LEAD_GEN',
  simulate: simulateLeadGen,
  handlers: leadGenHandlers,
};
