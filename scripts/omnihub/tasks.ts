import type { Task } from '@omnihub/contracts';
import { connectorFromHere, parseCommandArgs } from './here.ts';
import { UsageError } from './usage-error.ts';

export const TASKS_USAGE = `  pnpm omnihub tasks create --action <action> [--target <source>] [--payload '<json object>']
                            [--priority 1-10] [--run-at <ISO time>] [--max-attempts 1-20]
                            [--require-approval] [--idempotency-key <key>] [--depends-on <id,id>] [--json]
  pnpm omnihub tasks get <task id> [--json]`;

/** `pnpm omnihub tasks create|get`: scripting access to tasks through the port, as the configured agent. */
export async function runTasks(argv: string[]): Promise<string> {
  const { positionals, values } = parseCommandArgs(
    argv,
    {
      action: { type: 'string' },
      target: { type: 'string' },
      payload: { type: 'string' },
      priority: { type: 'string' },
      'run-at': { type: 'string' },
      'max-attempts': { type: 'string' },
      'require-approval': { type: 'boolean', default: false },
      'idempotency-key': { type: 'string' },
      'depends-on': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    'tasks',
  );
  const [command, id] = positionals;

  if (command === 'get') {
    if (!id) throw new UsageError(`tasks get needs a task id.\n\nUsage:\n${TASKS_USAGE}`);
    const task = await connectorFromHere().getTask(id);
    return values.json ? JSON.stringify(task) : formatTask(task);
  }
  if (command !== 'create')
    throw new UsageError(
      `Unknown command "tasks ${positionals.join(' ')}".\n\nUsage:\n${TASKS_USAGE}`,
    );
  if (!values.action)
    throw new UsageError(`tasks create needs --action.\n\nUsage:\n${TASKS_USAGE}`);

  let payload: unknown = {};
  if (values.payload !== undefined) {
    try {
      payload = JSON.parse(values.payload);
    } catch (error) {
      throw new UsageError(`--payload is not valid JSON: ${(error as Error).message}`);
    }
  }
  const number = (name: 'priority' | 'max-attempts') => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    const parsed = Number(raw);
    if (!Number.isInteger(parsed))
      throw new UsageError(`--${name} must be a whole number (got "${raw}").`);
    return parsed;
  };
  const connector = connectorFromHere();
  const { task, duplicate } = await connector.createTask({
    // Without --target or OMNIHUB_SOURCE, the task goes to the key's own source.
    target: values.target ?? connector.config.source ?? (await connector.whoami()).source,
    action: values.action,
    payload: payload as Record<string, unknown>,
    require_approval: values['require-approval'],
    priority: number('priority'),
    max_attempts: number('max-attempts'),
    run_at: values['run-at'] ?? null,
    idempotency_key: values['idempotency-key'],
    depends_on:
      values['depends-on']
        ?.split(',')
        .map((part) => part.trim())
        .filter(Boolean) ?? [],
  });
  if (values.json) return JSON.stringify({ ...(duplicate ? { status: 'duplicate' } : {}), task });
  return duplicate
    ? `Task ${task.id} already existed for idempotency key ${values['idempotency-key']}: ${task.action} → ${task.target}, ${task.status}.`
    : `Created task ${task.id}: ${task.action} → ${task.target}, ${task.status}.`;
}

export function formatTask(task: Task): string {
  const lines = [
    `task ${task.id}`,
    `  ${task.action} → ${task.target}, ${task.status} (attempt ${task.attempts} of ${task.max_attempts}, priority ${task.priority})`,
    `  created ${task.created_at}, updated ${task.updated_at}${task.run_at ? `, runs at ${task.run_at}` : ''}`,
  ];
  if (task.claimed_by)
    lines.push(
      `  worker ${task.claimed_by}${task.lease_expires_at ? `, lease until ${task.lease_expires_at}` : ''}`,
    );
  if (task.depends_on.length > 0) lines.push(`  depends on ${task.depends_on.join(', ')}`);
  lines.push(`  payload ${JSON.stringify(task.params.payload)}`);
  if (task.error) lines.push(`  error ${task.error}`);
  if (task.output !== null)
    lines.push(
      `  output${task.output_truncated ? ' (truncated)' : ''} ${JSON.stringify(task.output, null, 2).replace(/\n/g, '\n  ')}`,
    );
  return lines.join('\n');
}
