import { useUpdateSearch } from '../../app/use-update-search.ts';
import { formatTotal, Pagination, PastLastPage } from '../../components/Pagination.tsx';
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { QueryState } from '../../components/QueryState.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { usePageTitle } from '../../components/use-page-title.ts';
import { errorMessage } from '../../data/errors.ts';
import { useTaskTargetsQuery } from '../../data/integrations/integrations-query.ts';
import type { DeadLetterListParams } from '../../data/runner/keys.ts';
import {
  DEAD_LETTERS_PAGE_SIZE,
  failureReason,
  useDeadLettersQuery,
  type DeadLetter,
} from '../../data/runner/dead-letters-query.ts';
import {
  useRetryTasksMutation,
  type RetryManyResult,
} from '../../data/tasks/tasks-retry-many-mutation.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { shortId } from '../tasks/task-format.ts';
import { retryOutcomeText } from './retry-outcome.ts';
import './dead-letters.css';

/** The list's filter and page, from the address (?target=&page=, page from 1). */
export function deadLetterParamsOf(search: URLSearchParams): DeadLetterListParams {
  const page = Number.parseInt(search.get('page') ?? '1', 10);
  return {
    target: search.get('target') || null,
    page: Number.isFinite(page) && page > 1 ? page - 1 : 0,
  };
}

/**
 * /omnidash/dead-letters: tasks that ended failed (attempts used up, a
 * failure the worker said was not retryable, or a lease that expired on the
 * last attempt), the latest first, with why; operators retry them one by
 * one or a page's selection at once.
 */
export function DeadLettersScreen() {
  usePageTitle('Dead letters');
  const tenant = useTenant();
  const [search] = useSearchParams();
  const updateSearch = useUpdateSearch();
  const params = deadLetterParamsOf(search);
  const letters = useDeadLettersQuery(tenant.tenantId, params);
  const targets = useTaskTargetsQuery(tenant.tenantId);
  const retry = useRetryTasksMutation(tenant.tenantId);
  const allowed = tenant.can('operateTasks');
  const disabledReason = allowed ? undefined : needsRole('operateTasks');

  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  // The ids the open dialog asks about, fixed when it opened: rows that
  // leave meanwhile are still sent, and reported back as skipped.
  const [confirming, setConfirming] = useState<string[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);

  // The buttons pressed leave with their rows: focus goes to what happened.
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);

  // Only rows on screen can be selected: a row that leaves (retried
  // elsewhere, or another page) leaves the selection too.
  const rows = letters.data?.rows ?? [];
  const selected = rows.filter((row) => chosen.has(row.id)).map((row) => row.id);
  const allSelected = rows.length > 0 && selected.length === rows.length;

  function setParam(name: 'target' | 'page', value: string | null) {
    // A new filter starts at its first page.
    updateSearch(name === 'page' ? { page: value } : { [name]: value, page: null });
  }

  function toggle(id: string, on: boolean) {
    setChosen((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  function run(ids: string[]) {
    setProblem(null);
    setNotice(null);
    retry.mutate(ids, {
      onSuccess: (result: RetryManyResult) => {
        setConfirming(null);
        setChosen(new Set());
        setNotice(retryOutcomeText(result));
      },
      onError: (error) => {
        setConfirming(null);
        setProblem(`Nothing was retried: ${errorMessage(error)}`);
      },
    });
  }

  const targetOptions = [...new Set([...(targets.data ?? []), params.target ?? ''])].filter(
    Boolean,
  );

  return (
    <section className="screen dead-letters">
      <h1>Dead letters</h1>
      <p className="muted dead-letters-intro">
        Tasks that ended failed: every attempt used, a failure the worker said was not worth
        retrying, or a worker that went silent on the last attempt. Retrying one queues it again
        with a fresh set of attempts.
      </p>
      <section className="card" aria-labelledby="dead-letters-title">
        <div className="card-header">
          <h2 id="dead-letters-title">Failed tasks</h2>
          {letters.data && (
            <span className="muted">
              {formatTotal(letters.data)} {params.target ? 'matching' : 'in all'}
            </span>
          )}
        </div>
        <div className="filters dead-letters-toolbar">
          <div className="field" role="search" aria-label="Filter dead letters">
            <label htmlFor="dead-letters-target">Target</label>
            <select
              id="dead-letters-target"
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
          <button
            className="btn btn-primary"
            type="button"
            disabled={!allowed || selected.length === 0 || retry.isPending}
            title={disabledReason}
            onClick={() => {
              setProblem(null);
              setConfirming(selected);
            }}
          >
            Retry selected{selected.length > 0 ? ` (${selected.length})` : ''}
          </button>
        </div>
        {problem && (
          <p className="form-error" role="alert">
            {problem}
          </p>
        )}
        <p className="form-success" role="status" ref={noticeRef} tabIndex={-1}>
          {notice}
        </p>
        <QueryState
          query={letters}
          label="dead letters"
          isEmpty={(page) => page.rows.length === 0}
          empty={
            letters.data && letters.data.count > 0 ? (
              <PastLastPage onFirstPage={() => setParam('page', null)} />
            ) : params.target ? (
              <p>No failed task for {params.target}.</p>
            ) : (
              <p>No failed tasks. Tasks that fail for good appear here.</p>
            )
          }
        >
          {(page) => (
            <>
              <div className="table-wrap">
                <table className="dead-letters-table" aria-busy={letters.isPlaceholderData}>
                  <caption className="visually-hidden">
                    Failed tasks, latest failure first, page {params.page + 1}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col" className="dead-letters-check">
                        <input
                          type="checkbox"
                          aria-label="Select all on this page"
                          checked={allSelected}
                          ref={(box) => {
                            if (box) box.indeterminate = selected.length > 0 && !allSelected;
                          }}
                          disabled={!allowed}
                          title={disabledReason}
                          onChange={(event) =>
                            setChosen(
                              event.target.checked ? new Set(rows.map((row) => row.id)) : new Set(),
                            )
                          }
                        />
                      </th>
                      <th scope="col">Task</th>
                      <th scope="col">Target</th>
                      <th scope="col">Why</th>
                      <th scope="col">Failed</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.rows.map((task) => (
                      <DeadLetterRow
                        key={task.id}
                        task={task}
                        checked={chosen.has(task.id)}
                        allowed={allowed}
                        disabledReason={disabledReason}
                        busy={retry.isPending}
                        onCheck={(on) => toggle(task.id, on)}
                        onRetry={() => run([task.id])}
                      />
                    ))}
                  </tbody>
                </table>
              </div>
              <Pagination
                pageSize={DEAD_LETTERS_PAGE_SIZE}
                label="Pages of dead letters"
                page={params.page}
                list={page}
                onPage={(next) => setParam('page', next === 0 ? null : String(next + 1))}
              />
            </>
          )}
        </QueryState>
      </section>
      <ConfirmDialog
        open={confirming !== null}
        title={`Retry ${confirming?.length ?? 0} failed task${confirming?.length === 1 ? '' : 's'}?`}
        confirmLabel="Retry tasks"
        pending={retry.isPending}
        onConfirm={() => confirming && run(confirming)}
        onCancel={() => setConfirming(null)}
      >
        <p>
          Each goes back to queued with a fresh set of attempts, and its target's workers run it
          again. A task that is no longer failed (someone retried it meanwhile) is skipped.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function DeadLetterRow({
  task,
  checked,
  allowed,
  disabledReason,
  busy,
  onCheck,
  onRetry,
}: {
  task: DeadLetter;
  checked: boolean;
  allowed: boolean;
  disabledReason: string | undefined;
  busy: boolean;
  onCheck: (on: boolean) => void;
  onRetry: () => void;
}) {
  const handle = shortId(task.id);
  return (
    <tr data-task-id={task.id}>
      <td className="dead-letters-check">
        <input
          type="checkbox"
          aria-label={`Select task ${handle}`}
          checked={checked}
          disabled={!allowed}
          title={disabledReason}
          onChange={(event) => onCheck(event.target.checked)}
        />
      </td>
      <td>
        <Link to={`/omnidash/tasks/${task.id}`} className="task-link">
          {task.action}
        </Link>{' '}
        <span className="mono muted">{handle}</span>
      </td>
      <td>{task.target}</td>
      <td className="dead-letters-why">
        <span>{failureReason(task)}</span>
        {task.error && (
          <span className="dead-letters-error" title={task.error}>
            {task.error}
          </span>
        )}
      </td>
      <td className="dead-letters-when">
        <RelativeTime iso={task.finished_at} />
      </td>
      <td>
        <button
          className="btn btn-small"
          type="button"
          disabled={!allowed || busy}
          title={disabledReason}
          onClick={onRetry}
        >
          Retry<span className="visually-hidden"> task {handle}</span>
        </button>
      </td>
    </tr>
  );
}
