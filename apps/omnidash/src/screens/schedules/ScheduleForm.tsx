import { useId, useMemo, useState, type FormEvent } from 'react';
import { useNow } from '../../components/RelativeTime.tsx';
import { errorMessage } from '../../data/errors.ts';
import { useTaskTargetsQuery } from '../../data/integrations/integrations-query.ts';
import type { Schedule } from '../../data/schedules/schedules-query.ts';
import { useSaveScheduleMutation } from '../../data/schedules/schedules-save-mutation.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import {
  describedBy,
  FieldError,
  FieldHint,
  TargetSelect,
  WholeNumberField,
} from '../tasks/fields.tsx';
import {
  emptyScheduleForm,
  formatInZone,
  formFromSchedule,
  previewRuns,
  timeZones,
  validateScheduleForm,
  type ScheduleFormErrors,
  type ScheduleFormField,
  type ScheduleFormValues,
} from './schedule-form.ts';

const FIELD_ORDER: ScheduleFormField[] = [
  'name',
  'cron',
  'timezone',
  'target',
  'action',
  'payload',
  'priority',
  'maxAttempts',
];

/**
 * Creates a schedule, or edits `editing`. The cron field previews the next
 * due times in the chosen zone as it is typed, computed by the same library
 * the scheduler uses.
 */
export function ScheduleForm({
  editing,
  onDone,
}: {
  editing: Schedule | null;
  /** After a save or a cancelled edit, with what to announce. */
  onDone: (message: string | null) => void;
}) {
  const id = useId();
  const fieldId = (field: ScheduleFormField) => `${id}-${field}`;
  const tenant = useTenant();
  const allowed = tenant.can('operateTasks');
  const targets = useTaskTargetsQuery(tenant.tenantId);
  const save = useSaveScheduleMutation(tenant.tenantId);
  const zones = useMemo(timeZones, []);
  const now = useNow(30_000);
  const [values, setValues] = useState<ScheduleFormValues>(() =>
    editing ? formFromSchedule(editing) : emptyScheduleForm(),
  );
  const [errors, setErrors] = useState<ScheduleFormErrors>({});
  const [checked, setChecked] = useState(false);

  const effective = { ...values, target: values.target || targets.data?.[0] || '' };
  const preview = previewRuns(values.cron, values.timezone, new Date(now));

  function change<K extends ScheduleFormField>(field: K, value: ScheduleFormValues[K]) {
    const next = { ...values, [field]: value };
    setValues(next);
    if (checked) {
      const result = validateScheduleForm(
        { ...next, target: next.target || effective.target },
        new Date(),
      );
      setErrors(result.ok ? {} : result.errors);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setChecked(true);
    const result = validateScheduleForm(effective, new Date());
    if (!result.ok) {
      setErrors(result.errors);
      const first = FIELD_ORDER.find((field) => result.errors[field]);
      if (first) document.getElementById(fieldId(first))?.focus();
      return;
    }
    setErrors({});
    save.mutate(
      { scheduleId: editing?.id ?? null, input: result.input },
      {
        onSuccess: (saved) => {
          setValues(emptyScheduleForm(values.timezone));
          setChecked(false);
          onDone(
            editing
              ? `Schedule ${saved.name} saved.`
              : `Schedule ${saved.name} created${saved.enabled ? '' : ' (off)'}.`,
          );
        },
      },
    );
  }

  const input = (field: ScheduleFormField, hint: boolean) =>
    describedBy(fieldId(field), hint, errors[field]);

  return (
    <form
      className="card schedule-form"
      aria-labelledby={`${id}-title`}
      onSubmit={submit}
      noValidate
    >
      <h2 id={`${id}-title`}>{editing ? `Edit ${editing.name}` : 'New schedule'}</h2>
      {!allowed && (
        <p className="notice">
          You can see schedules but not change them. {needsRole('operateTasks')}
        </p>
      )}
      <fieldset disabled={!allowed || save.isPending}>
        <legend className="visually-hidden">The schedule</legend>
        <div className="form-grid">
          <div className="field">
            <label htmlFor={fieldId('name')}>Name</label>
            <input
              {...input('name', false)}
              value={values.name}
              maxLength={100}
              autoComplete="off"
              onChange={(event) => change('name', event.target.value)}
            />
            <FieldError id={fieldId('name')} error={errors.name} />
          </div>
          <div className="field">
            <label htmlFor={fieldId('cron')}>Cron</label>
            <input
              {...input('cron', true)}
              className="mono"
              value={values.cron}
              placeholder="*/15 * * * *"
              autoComplete="off"
              spellCheck={false}
              autoCapitalize="off"
              onChange={(event) => change('cron', event.target.value)}
            />
            <FieldHint id={fieldId('cron')}>
              Minute hour day-of-month month day-of-week, e.g. <code>0 9 * * 1-5</code> (weekdays at
              9:00) or <code>@daily</code>.
            </FieldHint>
            <FieldError id={fieldId('cron')} error={errors.cron} />
          </div>
          <div className="field">
            <label htmlFor={fieldId('timezone')}>Time zone</label>
            <select
              {...input('timezone', false)}
              value={values.timezone}
              onChange={(event) => change('timezone', event.target.value)}
            >
              {zones.map((zone) => (
                <option key={zone} value={zone}>
                  {zone}
                </option>
              ))}
            </select>
          </div>
        </div>
        <p className="schedule-preview" aria-live="polite">
          {values.cron.trim() === '' ? (
            <span className="muted">The next due times show here.</span>
          ) : preview.ok ? (
            <>
              Next due: {preview.runs.map((run) => formatInZone(run, values.timezone)).join(' · ')}
            </>
          ) : (
            <span className="muted">{preview.error}</span>
          )}
        </p>
        <div className="form-grid">
          <TargetSelect
            id={fieldId('target')}
            label="Target"
            value={effective.target}
            onChange={(value) => change('target', value)}
            targets={targets}
            error={errors.target}
            hint={false}
          />
          <div className="field">
            <label htmlFor={fieldId('action')}>Action</label>
            <input
              {...input('action', false)}
              value={values.action}
              autoComplete="off"
              spellCheck={false}
              autoCapitalize="off"
              onChange={(event) => change('action', event.target.value)}
            />
            <FieldError id={fieldId('action')} error={errors.action} />
          </div>
          <WholeNumberField
            id={fieldId('priority')}
            label="Priority"
            value={values.priority}
            min={1}
            max={10}
            error={errors.priority}
            onChange={(value) => change('priority', value)}
          />
          <WholeNumberField
            id={fieldId('maxAttempts')}
            label="Max attempts"
            value={values.maxAttempts}
            min={1}
            max={20}
            error={errors.maxAttempts}
            onChange={(value) => change('maxAttempts', value)}
          />
        </div>
        <div className="field">
          <label htmlFor={fieldId('payload')}>Payload</label>
          <textarea
            {...input('payload', true)}
            className="task-payload"
            rows={3}
            value={values.payload}
            spellCheck={false}
            autoCapitalize="off"
            onChange={(event) => change('payload', event.target.value)}
          />
          <FieldHint id={fieldId('payload')}>
            The JSON object each task gets. Empty means {'{}'}.
          </FieldHint>
          <FieldError id={fieldId('payload')} error={errors.payload} />
        </div>
        <label className="checkbox" htmlFor={fieldId('enabled')}>
          <input
            id={fieldId('enabled')}
            type="checkbox"
            checked={values.enabled}
            onChange={(event) => change('enabled', event.target.checked)}
          />
          On: create tasks at each due time
        </label>
      </fieldset>
      {save.isError && (
        <p className="form-error" role="alert">
          The schedule was not saved: {errorMessage(save.error)}
        </p>
      )}
      <div className="actions">
        <button className="btn btn-primary" type="submit" disabled={!allowed || save.isPending}>
          {save.isPending ? 'Saving…' : editing ? 'Save changes' : 'Create schedule'}
        </button>
        {editing && (
          <button className="btn" type="button" onClick={() => onDone(null)}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
