import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { JsonView } from '../../components/JsonView.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { errorMessage } from '../../data/errors.ts';
import { useTaskTargetsQuery } from '../../data/integrations/integrations-query.ts';
import { TaskEndedError, useAgentTask } from '../../hooks/useAgentTask.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { describedBy, FieldError, FieldHint, TargetSelect } from './fields.tsx';
import { EMPTY_TASK_FORM, validateTaskForm, type TaskFormErrors } from './task-form.ts';
import { shortId } from './task-format.ts';
import { TaskOutput } from './TaskOutput.tsx';

const ID = 'quick-dispatch';

/**
 * Send one task and watch it to the end, on this screen: a small form over
 * useAgentTask, which follows the task live and reports how it ended.
 */
export function QuickDispatch() {
  const tenant = useTenant();
  const location = useLocation();
  const allowed = tenant.can('operateTasks');
  const targets = useTaskTargetsQuery(tenant.tenantId);
  const [target, setTarget] = useState('');
  const [action, setAction] = useState('echo');
  const [payload, setPayload] = useState('{"message": "hello"}');
  const [errors, setErrors] = useState<TaskFormErrors>({});
  const { submitTask, isSubmitting, isProcessing, currentTask, error } = useAgentTask();
  const effectiveTarget = target || targets.data?.[0] || '';

  function dispatch(event: FormEvent) {
    event.preventDefault();
    const result = validateTaskForm({
      ...EMPTY_TASK_FORM,
      target: effectiveTarget,
      action,
      payload,
    });
    if (!result.ok) {
      setErrors(result.errors);
      const first = (['target', 'action', 'payload'] as const).find(
        (field) => result.errors[field],
      );
      if (first) document.getElementById(`${ID}-${first}`)?.focus();
      return;
    }
    setErrors({});
    void submitTask(result.input);
  }

  const refused = error && !(error instanceof TaskEndedError) ? error : null;

  return (
    <form className="card task-form" aria-labelledby={`${ID}-title`} onSubmit={dispatch} noValidate>
      <h2 id={`${ID}-title`}>Quick dispatch</h2>
      <p className="muted">Send one task and follow it here until it ends.</p>
      <fieldset disabled={!allowed}>
        <legend className="visually-hidden">The task to dispatch</legend>
        <div className="form-grid">
          <TargetSelect
            id={`${ID}-target`}
            label="Target"
            value={effectiveTarget}
            onChange={setTarget}
            targets={targets}
            error={errors.target}
            hint={false}
          />
          <div className="field">
            <label htmlFor={`${ID}-action`}>Action</label>
            <input
              {...describedBy(`${ID}-action`, false, errors.action)}
              value={action}
              autoComplete="off"
              spellCheck={false}
              autoCapitalize="off"
              onChange={(event) => setAction(event.target.value)}
            />
            <FieldError id={`${ID}-action`} error={errors.action} />
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${ID}-payload`}>Payload</label>
          <textarea
            {...describedBy(`${ID}-payload`, true, errors.payload)}
            className="task-payload task-payload-small"
            rows={2}
            value={payload}
            spellCheck={false}
            autoCapitalize="off"
            autoComplete="off"
            onChange={(event) => setPayload(event.target.value)}
          />
          <FieldHint id={`${ID}-payload`}>A JSON object.</FieldHint>
          <FieldError id={`${ID}-payload`} error={errors.payload} />
        </div>
      </fieldset>
      <div className="actions">
        <button
          className="btn btn-primary"
          type="submit"
          disabled={!allowed || isSubmitting}
          title={allowed ? undefined : needsRole('operateTasks')}
        >
          {isSubmitting ? 'Dispatching…' : isProcessing ? 'Dispatch another' : 'Dispatch'}
        </button>
        {!allowed && <span className="field-hint">{needsRole('operateTasks')}</span>}
      </div>

      {refused && (
        <p className="form-error quick-dispatch-result" role="alert">
          Could not dispatch: {errorMessage(refused)}
        </p>
      )}
      <div className="quick-dispatch-result" role="status" aria-live="polite">
        {currentTask && (
          <p>
            Task{' '}
            <Link
              to={`/omnidash/tasks/${currentTask.id}`}
              state={{ from: location.search }}
              className="mono"
            >
              {shortId(currentTask.id)}
            </Link>{' '}
            ({currentTask.action} for {currentTask.target}) is{' '}
            <StatusBadge status={currentTask.status} />
          </p>
        )}
      </div>
      {currentTask?.status === 'succeeded' && (
        <TaskOutput task={currentTask} label="Output of the dispatched task" />
      )}
      {currentTask && error instanceof TaskEndedError && (
        <p className="notice notice-danger">{error.message}</p>
      )}
      {currentTask?.status === 'failed' && currentTask.output !== null && (
        <JsonView value={currentTask.output} label="Output of the failed task" />
      )}
    </form>
  );
}
