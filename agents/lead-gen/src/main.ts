/** `pnpm lead-gen`: the Lead-Gen agent (LEAD_GEN_MODE=simulate|worker|hybrid). */
import { runAgent } from '@omnihub/connector';
import { leadGenAgent } from './agent.ts';

runAgent(leadGenAgent).then((code) => process.exit(code));
