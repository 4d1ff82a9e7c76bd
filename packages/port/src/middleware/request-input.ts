import { TaskId } from '@omnihub/contracts';
import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import { readJsonBody } from '../body.ts';
import type { PortDeps, PortHonoEnv, PortVariables } from '../context.ts';
import { PortError, isSqlRefusal, refusalToError } from '../errors.ts';
import { validate } from '../validation.ts';

/**
 * The contract checks the key before the input ("a bad key gets 401 before a
 * bad body gets 400"), yet the operation and the key check share one SQL
 * call. So input is checked first, and when it is bad the key alone is
 * checked before the input problem is reported.
 */
async function refuseAfterKeyCheck(
  deps: PortDeps,
  vars: Pick<PortVariables, 'key' | 'scopes'>,
  problem: PortError,
): Promise<never> {
  const auth = await deps.db.authorize(vars.key, vars.scopes);
  if (isSqlRefusal(auth)) throw refusalToError(auth);
  throw problem;
}

/** Reads and validates the JSON body; `pick` chooses the schema from the raw value (for bodies with two shapes). */
export function jsonBody<S extends z.ZodType>(deps: PortDeps, pick: (raw: unknown) => S) {
  return createMiddleware<PortHonoEnv & { Variables: { body: z.output<S> } }>(async (c, next) => {
    const read = await readJsonBody(c.req.raw);
    if ('problem' in read) {
      // Node's server drops a connection whose request body was left unread
      // a moment after answering; without this a keep-alive client would
      // send its next request into a closing socket.
      if (read.unread) c.header('Connection', 'close');
      return refuseAfterKeyCheck(deps, c.var, read.problem);
    }
    const checked = validate(pick(read.value), read.value);
    if ('problem' in checked) return refuseAfterKeyCheck(deps, c.var, checked.problem);
    c.set('body', checked.data);
    await next();
  });
}

/** The `{id}` of /tasks/{id}/…: anything that is not a task id is simply not found. */
export function taskIdParam(deps: PortDeps) {
  return createMiddleware<PortHonoEnv & { Variables: { taskId: string } }>(async (c, next) => {
    const parsed = TaskId.safeParse(c.req.param('id'));
    if (!parsed.success) {
      return refuseAfterKeyCheck(
        deps,
        c.var,
        new PortError('not_found', 'No task with this id in your tenant.'),
      );
    }
    c.set('taskId', parsed.data);
    await next();
  });
}
