import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { errorMessage } from '../../data/errors.ts';
import { useApproveTaskMutation } from '../../data/tasks/tasks-approve-mutation.ts';
import { useCancelTaskMutation } from '../../data/tasks/tasks-cancel-mutation.ts';
import { useRejectTaskMutation } from '../../data/tasks/tasks-reject-mutation.ts';
import { useRetryTaskMutation } from '../../data/tasks/tasks-retry-mutation.ts';
import { isFinalStatus, type TaskListRow } from '../../data/tasks/types.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { shortId } from './task-format.ts';

type Task = Pick<TaskListRow, 'id' | 'action' | 'status'>;
type Dialog = { kind: 'reject' | 'cancel'; task: Task } | null;

/** What one action did wrong, shown until the next action. */
interface Problem {
  taskId: string;
  message: string;
}

/**
 * The state changes an operator makes on tasks (approve, reject, cancel,
 * retry), for a list of tasks or a single one: one dialog for the whole
 * screen, the server's message when one is refused, and for viewers the
 * controls disabled with the reason.
 */
export function useTaskActions() {
  const tenant = useTenant();
  const allowed = tenant.can('operateTasks');
  const approve = useApproveTaskMutation(tenant.tenantId);
  const reject = useRejectTaskMutation(tenant.tenantId);
  const cancel = useCancelTaskMutation(tenant.tenantId);
  const retry = useRetryTaskMutation(tenant.tenantId);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [dialogProblem, setDialogProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const reasonId = useId();

  // The button that was pressed is gone once the task's status changes:
  // focus goes to what happened instead of falling back to the page.
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);

  const start = () => {
    setProblem(null);
    setNotice(null);
  };
  const done = (task: Task, what: string) => () => setNotice(`Task ${shortId(task.id)} ${what}.`);

  const fail = (task: Task, verb: string) => (error: unknown) =>
    setProblem({
      taskId: task.id,
      message: `Could not ${verb} task ${shortId(task.id)}: ${errorMessage(error)}`,
    });

  function open(kind: 'reject' | 'cancel', task: Task) {
    start();
    setDialogProblem(null);
    setReason('');
    setDialog({ kind, task });
  }

  function confirm() {
    if (!dialog) return;
    const mutation = dialog.kind === 'reject' ? reject : cancel;
    mutation.mutate(
      { taskId: dialog.task.id, reason },
      {
        onSuccess: () => {
          setDialog(null);
          done(dialog.task, dialog.kind === 'reject' ? 'rejected' : 'canceled')();
        },
        onError: (error) => setDialogProblem(errorMessage(error)),
      },
    );
  }

  const busyIds = new Set(
    [approve.isPending && approve.variables, retry.isPending && retry.variables].filter(
      (id): id is string => typeof id === 'string',
    ),
  );

  /** The buttons for one task: only those its status allows. */
  function buttons(task: Task): ReactNode {
    const disabledReason = allowed ? undefined : needsRole('operateTasks');
    const label = (verb: string) => (
      <>
        {verb}
        <span className="visually-hidden"> task {shortId(task.id)}</span>
      </>
    );
    const busy = busyIds.has(task.id);
    return (
      <div className="actions task-actions">
        {task.status === 'waiting_approval' && (
          <>
            <button
              className="btn btn-small btn-primary"
              type="button"
              disabled={!allowed || busy}
              title={disabledReason}
              onClick={() => {
                start();
                approve.mutate(task.id, {
                  onSuccess: done(task, 'approved: it is queued to run'),
                  onError: fail(task, 'approve'),
                });
              }}
            >
              {label('Approve')}
            </button>
            <button
              className="btn btn-small"
              type="button"
              disabled={!allowed || busy}
              title={disabledReason}
              onClick={() => open('reject', task)}
            >
              {label('Reject')}
            </button>
          </>
        )}
        {task.status === 'failed' && (
          <button
            className="btn btn-small"
            type="button"
            disabled={!allowed || busy}
            title={disabledReason}
            onClick={() => {
              start();
              retry.mutate(task.id, {
                onSuccess: done(task, 'queued to run again'),
                onError: fail(task, 'retry'),
              });
            }}
          >
            {label('Retry')}
          </button>
        )}
        {!isFinalStatus(task.status) && (
          <button
            className="btn btn-small btn-quiet task-cancel"
            type="button"
            disabled={!allowed || busy}
            title={disabledReason}
            onClick={() => open('cancel', task)}
          >
            {label('Cancel')}
          </button>
        )}
      </div>
    );
  }

  const pending = reject.isPending || cancel.isPending;
  const element = (
    <>
      {problem && (
        <p className="form-error" role="alert">
          {problem.message}
        </p>
      )}
      <p className="form-success" role="status" ref={noticeRef} tabIndex={-1}>
        {notice}
      </p>
      <ConfirmDialog
        open={dialog !== null}
        title={
          dialog?.kind === 'reject'
            ? `Reject task ${dialog ? shortId(dialog.task.id) : ''}?`
            : `Cancel task ${dialog ? shortId(dialog.task.id) : ''}?`
        }
        confirmLabel={dialog?.kind === 'reject' ? 'Reject task' : 'Cancel task'}
        danger
        pending={pending}
        onConfirm={confirm}
        onCancel={() => setDialog(null)}
      >
        <p>
          {dialog?.kind === 'reject'
            ? `The ${dialog.task.action} task will not run; it ends as canceled with your reason.`
            : `The ${dialog?.task.action ?? ''} task stops here and ends as canceled. A running attempt is abandoned; its worker learns at its next heartbeat.`}
        </p>
        <div className="field">
          <label htmlFor={reasonId}>Reason (optional)</label>
          <input
            id={reasonId}
            value={reason}
            maxLength={500}
            onChange={(event) => setReason(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !pending) confirm();
            }}
          />
        </div>
        {dialogProblem && (
          <p className="form-error" role="alert">
            {dialogProblem}
          </p>
        )}
      </ConfirmDialog>
    </>
  );

  return { buttons, element, allowed };
}
