import { Link, useLocation } from 'react-router';
import { QueryState } from '../../components/QueryState.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import {
  CHAIN_SIDE_LIMIT,
  useTaskChainQuery,
  type TaskChainRow,
} from '../../data/tasks/tasks-chain-query.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { shortId } from './task-format.ts';

/**
 * A task's chain in dependency order, upstream → this task → downstream,
 * each with its live status (the tenant's channel updates the chain query)
 * and why it ended when it did not succeed, e.g. dependency_failed.
 */
export function ChainList({
  members,
  label,
  markTask = true,
}: {
  members: TaskChainRow[];
  label: string;
  /** Whether to say which step is the task asked about (not when the list is a whole run). */
  markTask?: boolean;
}) {
  const location = useLocation();
  const upstream = members.filter((member) => member.relation === 'upstream').length;
  const downstream = members.filter((member) => member.relation === 'downstream').length;
  return (
    <>
      <ol className="task-chain" aria-label={label}>
        {members.map((member) => (
          <li
            key={member.id}
            className={`task-chain-step task-chain-${member.relation}`}
            aria-current={markTask && member.relation === 'task' ? 'step' : undefined}
          >
            <span className="task-chain-head">
              <Link
                to={`/omnidash/tasks/${member.id}`}
                state={{ from: location.search }}
                className="task-link"
              >
                {member.action}
              </Link>{' '}
              <span className="mono muted task-id">{shortId(member.id)}</span>
            </span>
            <StatusBadge status={member.status} />
            {markTask && member.relation === 'task' && (
              <span className="task-chain-self">this task</span>
            )}
            {member.error && member.status !== 'succeeded' && (
              <span className="task-chain-error">{member.error}</span>
            )}
          </li>
        ))}
      </ol>
      {(upstream >= CHAIN_SIDE_LIMIT || downstream >= CHAIN_SIDE_LIMIT) && (
        <p className="field-hint">
          Only the nearest {CHAIN_SIDE_LIMIT} tasks on each side of this task are shown.
        </p>
      )}
    </>
  );
}

/** The chain card of the task detail: shown when the task depends on others or others on it. */
export function TaskChainCard({ taskId }: { taskId: string }) {
  const tenant = useTenant();
  const chain = useTaskChainQuery(tenant.tenantId, taskId);
  // Most tasks are in no chain: no card, rather than one that appears to say so.
  if (chain.isPending || (chain.isSuccess && chain.data.length <= 1)) return null;
  return (
    <section className="card" aria-labelledby="task-chain-title">
      <h2 id="task-chain-title">Chain</h2>
      <p className="muted">
        Each task runs once every task before it has succeeded; a failure cancels the tasks after
        it.
      </p>
      <QueryState query={chain} label="the chain">
        {(members) => <ChainList members={members} label="Task chain" />}
      </QueryState>
    </section>
  );
}
