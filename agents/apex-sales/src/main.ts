/** `pnpm apex-sales`: the APEX-Sales agent (APEX_SALES_MODE=simulate|worker|hybrid). */
import { runAgent } from '@omnihub/connector';
import { apexSalesAgent } from './agent.ts';

runAgent(apexSalesAgent).then((code) => process.exit(code));
