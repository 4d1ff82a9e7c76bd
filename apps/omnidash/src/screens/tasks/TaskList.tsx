import { useUpdateSearch } from '../../app/use-update-search.ts';
import { formatTotal, Pagination, PastLastPage } from '../../components/Pagination.tsx';
import { TaskStatus } from '@omnihub/contracts';
import { Link, useLocation, useSearchParams } from 'react-router';
import { QueryState } from '../../components/QueryState.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { STATUS_LABEL, StatusBadge } from '../../components/StatusBadge.tsx';
import type { TaskListParams } from '../../data/tasks/keys.ts';
import { useTasksQuery } from '../../data/tasks/tasks-query.ts';
import { useTaskTargetsQuery } from '../../data/integrations/integrations-query.ts';
import { TASKS_PAGE_SIZE } from '../../data/tasks/types.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { useTaskActions } from './task-actions.tsx';
import { attemptsText, shortId } from './task-format.ts';

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The list's filters and page, from the address (?status=&target=&page=, page from 1). */
export function listParamsOf(search: URLSearchParams): TaskListParams {
  const status = TaskStatus.safeParse(search.get('status'));
  const page = Number.parseInt(search.get('page') ?? '1', 10);
  return {
    status: status.success ? status.data : null,
    target: search.get('target') || null,
    page: Number.isFinite(page) && page > 1 ? page - 1 : 0,
  };
}

/**
 * The tenant's tasks, newest first, 25 a page, filtered by status and
 * target. Filters and page live in the address, so reload, back and a shared
 * link keep them; rows change status live.
 */
export function TaskList() {
  const tenant = useTenant();
  const location = useLocation();
  const [search] = useSearchParams();
  const updateSearch = useUpdateSearch();
  const params = listParamsOf(search);
  const tasks = useTasksQuery(tenant.tenantId, params);
  const targets = useTaskTargetsQuery(tenant.tenantId);
  const actions = useTaskActions();

  function setParam(name: 'status' | 'target' | 'page', value: string | null) {
    // A new filter starts at its first page.
    updateSearch(name === 'page' ? { page: value } : { [name]: value, page: null });
  }

  const filtered = params.status !== null || params.target !== null;
  // A filter on a target that has no integration any more is still offered, so it can be cleared.
  const targetOptions = [...new Set([...(targets.data ?? []), params.target ?? ''])].filter(
    Boolean,
  );

  return (
    <section className="card" aria-labelledby="task-list-title">
      <div className="card-header">
        <h2 id="task-list-title">All tasks</h2>
        {tasks.data && (
          <span className="muted">
            {formatTotal(tasks.data)} {filtered ? 'matching' : 'in all'}
          </span>
        )}
      </div>
      <div className="filters" role="search" aria-label="Filter tasks">
        <div className="field">
          <label htmlFor="task-filter-status">Status</label>
          <select
            id="task-filter-status"
            value={params.status ?? ''}
            onChange={(event) => setParam('status', event.target.value || null)}
          >
            <option value="">Any status</option>
            {TaskStatus.options.map((status) => (
              <option key={status} value={status}>
                {capitalize(STATUS_LABEL[status])}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="task-filter-target">Target</label>
          <select
            id="task-filter-target"
            value={params.target ?? ''}
            onChange={(event) => setParam('target', event.target.value || null)}
          >
            <option value="">Any target</option>
            {targetOptions.map((target) => (
              <option key={target} value={target}>
                {target}
              </option>
            ))}
          </select>
        </div>
        {filtered && (
          <button
            className="btn btn-quiet"
            type="button"
            onClick={() => updateSearch({ status: null, target: null, page: null })}
          >
            Clear filters
          </button>
        )}
      </div>
      {actions.element}
      <QueryState
        query={tasks}
        label="tasks"
        isEmpty={(page) => page.rows.length === 0}
        empty={
          tasks.data && tasks.data.count > 0 ? (
            <PastLastPage onFirstPage={() => setParam('page', null)} />
          ) : filtered ? (
            <p>No task matches these filters.</p>
          ) : (
            <p>No tasks yet. Create one above, or let an agent create them through the port.</p>
          )
        }
      >
        {(page) => (
          <>
            <div className="table-wrap">
              <table className="task-table" aria-busy={tasks.isPlaceholderData}>
                <caption className="visually-hidden">
                  Tasks, newest first, page {params.page + 1}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Task</th>
                    <th scope="col">Target</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num task-optional">
                      Priority
                    </th>
                    <th scope="col" className="task-optional">
                      Attempts
                    </th>
                    <th scope="col">Created</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.rows.map((task) => (
                    <tr key={task.id} data-task-id={task.id}>
                      <td>
                        <Link
                          to={`/omnidash/tasks/${task.id}`}
                          state={{ from: location.search }}
                          className="task-link"
                        >
                          {task.action}
                        </Link>{' '}
                        <span className="mono muted task-id">{shortId(task.id)}</span>
                        {task.error && task.status !== 'succeeded' && (
                          <span className="task-error" title={task.error}>
                            {task.error}
                          </span>
                        )}
                      </td>
                      <td className="task-target">{task.target}</td>
                      <td>
                        <StatusBadge status={task.status} />
                      </td>
                      <td className="num task-optional">{task.priority}</td>
                      <td className="task-optional">
                        {attemptsText(task.attempts, task.max_attempts)}
                      </td>
                      <td className="task-created">
                        <RelativeTime iso={task.created_at} />
                      </td>
                      <td>{actions.buttons(task)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination
              pageSize={TASKS_PAGE_SIZE}
              label="Pages of tasks"
              page={params.page}
              list={page}
              onPage={(next) => setParam('page', next === 0 ? null : String(next + 1))}
            />
          </>
        )}
      </QueryState>
    </section>
  );
}
