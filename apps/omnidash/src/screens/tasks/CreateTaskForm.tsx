import { useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { errorMessage } from '../../data/errors.ts';
import { useCreateTaskMutation } from '../../data/tasks/tasks-create-mutation.ts';
import { useTaskQuery } from '../../data/tasks/tasks-detail-query.ts';
import { useTaskTargetsQuery } from '../../data/integrations/integrations-query.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { describedBy, FieldError, FieldHint, TargetSelect, WholeNumberField } from './fields.tsx';
import {
  EMPTY_TASK_FORM,
  validateTaskForm,
  type TaskFormErrors,
  type TaskFormField,
  type TaskFormValues,
} from './task-form.ts';
import { newRequestKey } from './request-key.ts';
import { shortId } from './task-format.ts';

const ID = 'create-task';
const FIELD_ORDER: TaskFormField[] = [
  'target',
  'action',
  'payload',
  'requireApproval',
  'priority',
  'maxAttempts',
  'runAt',
  'dependsOn',
];
/** The fields under "More options". */
const MORE_FIELDS: TaskFormField[] = ['priority', 'maxAttempts', 'runAt', 'dependsOn'];
const fieldId = (field: TaskFormField) => `${ID}-${field}`;

/**
 * Dispatches a task with every option of the contract. The form is checked
 * with the contract's schema before it is sent, and create_task checks it
 * again (and the role); each field shows its own message.
 */
export function CreateTaskForm() {
  const tenant = useTenant();
  const location = useLocation();
  const allowed = tenant.can('operateTasks');
  const targets = useTaskTargetsQuery(tenant.tenantId);
  const create = useCreateTaskMutation(tenant.tenantId);
  const [values, setValues] = useState<TaskFormValues>(EMPTY_TASK_FORM);
  const [errors, setErrors] = useState<TaskFormErrors>({});
  const [checked, setChecked] = useState(false);
  const [moreOpen, setMoreOpen] = useState(false);
  /** The task the last submit created; its status is read live from the cache. */
  const [created, setCreated] = useState<{ id: string; duplicate: boolean } | null>(null);
  const createdTask = useTaskQuery(tenant.tenantId, created?.id ?? null).data;
  /** Kept while the same request is re-sent (a network failure), so it can never create twice. */
  const requestKey = useRef<string | null>(null);

  // Until the operator picks one, the first target is the choice.
  const effective = { ...values, target: values.target || targets.data?.[0] || '' };

  function change<K extends TaskFormField>(field: K, value: TaskFormValues[K]) {
    const next = { ...values, [field]: value };
    setValues(next);
    requestKey.current = null;
    // After a first check, messages follow the edits, so a fix clears its message at once.
    if (checked) {
      const result = validateTaskForm({ ...next, target: next.target || effective.target });
      setErrors(result.ok ? {} : result.errors);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setChecked(true);
    setCreated(null);
    const result = validateTaskForm(effective);
    if (!result.ok) {
      setErrors(result.errors);
      const first = FIELD_ORDER.find((field) => result.errors[field]);
      // A wrong field among the folded options unfolds them, so its message is seen.
      if (MORE_FIELDS.some((field) => result.errors[field])) setMoreOpen(true);
      if (first) setTimeout(() => document.getElementById(fieldId(first))?.focus());
      return;
    }
    setErrors({});
    requestKey.current ??= newRequestKey();
    create.mutate(
      { ...result.input, idempotency_key: requestKey.current },
      {
        onSuccess: (answer) => {
          setCreated({ id: answer.task.id, duplicate: answer.status === 'duplicate' });
          requestKey.current = null;
        },
      },
    );
  }

  const input = (field: TaskFormField, hint: boolean) =>
    describedBy(fieldId(field), hint, errors[field]);

  return (
    <form className="card task-form" aria-labelledby={`${ID}-title`} onSubmit={submit} noValidate>
      <h2 id={`${ID}-title`}>Create task</h2>
      {!allowed && (
        <p className="notice" id={`${ID}-role`}>
          You can see tasks but not create them. {needsRole('operateTasks')}
        </p>
      )}
      <fieldset disabled={!allowed}>
        <legend className="visually-hidden">The task</legend>
        <div className="form-grid">
          <TargetSelect
            id={fieldId('target')}
            label="Target"
            value={effective.target}
            onChange={(value) => change('target', value)}
            targets={targets}
            error={errors.target}
          />
          <div className="field">
            <label htmlFor={fieldId('action')}>Action</label>
            <input
              {...input('action', true)}
              value={values.action}
              autoComplete="off"
              spellCheck={false}
              autoCapitalize="off"
              onChange={(event) => change('action', event.target.value)}
            />
            <FieldHint id={fieldId('action')}>
              The handler that runs it, e.g. echo or call_lead.
            </FieldHint>
            <FieldError id={fieldId('action')} error={errors.action} />
          </div>
        </div>

        <div className="field">
          <label htmlFor={fieldId('payload')}>Payload</label>
          <textarea
            {...input('payload', true)}
            className="task-payload"
            rows={5}
            value={values.payload}
            spellCheck={false}
            autoCapitalize="off"
            autoComplete="off"
            onChange={(event) => change('payload', event.target.value)}
          />
          <FieldHint id={fieldId('payload')}>
            A JSON object, up to 16 KiB, e.g. {'{"lead_id": "42"}'}. Empty means {'{}'}.
          </FieldHint>
          <FieldError id={fieldId('payload')} error={errors.payload} />
        </div>

        <div className="field">
          <label className="checkbox" htmlFor={fieldId('requireApproval')}>
            <input
              {...input('requireApproval', false)}
              type="checkbox"
              checked={values.requireApproval}
              onChange={(event) => change('requireApproval', event.target.checked)}
            />
            Require approval
          </label>
          <p className="field-hint">An operator approves it before any worker may run it.</p>
        </div>
        <details
          className="task-more"
          open={moreOpen}
          onToggle={(event) => setMoreOpen(event.currentTarget.open)}
        >
          <summary>More options: priority, attempts, when to run, dependencies</summary>
          <div className="form-grid">
            <WholeNumberField
              id={fieldId('priority')}
              label="Priority"
              value={values.priority}
              min={1}
              max={10}
              hint="1 to 10; higher runs first."
              error={errors.priority}
              onChange={(value) => change('priority', value)}
            />
            <WholeNumberField
              id={fieldId('maxAttempts')}
              label="Max attempts"
              value={values.maxAttempts}
              min={1}
              max={20}
              hint="1 to 20, with backoff between them."
              error={errors.maxAttempts}
              onChange={(value) => change('maxAttempts', value)}
            />
            <div className="field">
              <label htmlFor={fieldId('runAt')}>Run at</label>
              <input
                {...input('runAt', true)}
                type="datetime-local"
                value={values.runAt}
                onChange={(event) => change('runAt', event.target.value)}
              />
              <FieldHint id={fieldId('runAt')}>
                Your local time; empty for as soon as possible.
              </FieldHint>
              <FieldError id={fieldId('runAt')} error={errors.runAt} />
            </div>
          </div>

          <div className="field">
            <label htmlFor={fieldId('dependsOn')}>Depends on</label>
            <input
              {...input('dependsOn', true)}
              className="mono"
              value={values.dependsOn}
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => change('dependsOn', event.target.value)}
            />
            <FieldHint id={fieldId('dependsOn')}>
              Task ids, separated by commas or spaces: this task waits until they all succeed.
            </FieldHint>
            <FieldError id={fieldId('dependsOn')} error={errors.dependsOn} />
          </div>
        </details>
      </fieldset>

      {create.isError && (
        <p className="form-error" role="alert">
          Could not create the task: {errorMessage(create.error)}
        </p>
      )}
      <div role="status" aria-live="polite">
        {created && createdTask && (
          <p className="form-success">
            {created.duplicate ? 'Already created: task ' : 'Created task '}
            <Link
              to={`/omnidash/tasks/${createdTask.id}`}
              state={{ from: location.search }}
              className="mono"
            >
              {shortId(createdTask.id)}
            </Link>{' '}
            ({createdTask.action} for {createdTask.target}), now{' '}
            <StatusBadge status={createdTask.status} />
          </p>
        )}
      </div>
      <button
        className="btn btn-primary"
        type="submit"
        disabled={!allowed || create.isPending}
        title={allowed ? undefined : needsRole('operateTasks')}
        aria-describedby={allowed ? undefined : `${ID}-role`}
      >
        {create.isPending ? 'Creating…' : 'Create task'}
      </button>
    </form>
  );
}
