import { createMiddleware } from 'hono/factory';
import type { PortHonoEnv } from '../context.ts';
import { PortError } from '../errors.ts';

/** The deployment-wide switch (`OMNILINK_ENABLED=false`): every route answers 503 and the database is not touched. */
export function killSwitch(enabled: boolean) {
  return createMiddleware<PortHonoEnv>(async (_c, next) => {
    if (!enabled) {
      throw new PortError(
        'omnilink_disabled',
        'OmniLink is switched off for this deployment (OMNILINK_ENABLED=false).',
      );
    }
    await next();
  });
}
