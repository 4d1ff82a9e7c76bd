import { useId, useState, type FormEvent } from 'react';
import { errorMessage } from '../../data/errors.ts';
import { useSetActionLimitMutation } from '../../data/runner/runner-limit-mutation.ts';
import type { ActionLimit } from '../../data/runner/runner-stats-query.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { ACTION_PATTERN, maxRunningProblem } from './runner-format.ts';

/**
 * A target's concurrency limits: how many of each limited action run now
 * against the limit, and for admins the fields to set, change and lift them
 * (everyone else sees them disabled, with the reason).
 */
export function LimitsEditor({ target, limits }: { target: string; limits: ActionLimit[] }) {
  const id = useId();
  const tenant = useTenant();
  const allowed = tenant.can('limitActions');
  const setLimit = useSetActionLimitMutation(tenant.tenantId);
  const [announcement, setAnnouncement] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const disabledReason = allowed ? undefined : needsRole('limitActions');

  function save(action: string, maxRunning: number | null, after?: () => void) {
    setProblem(null);
    setAnnouncement('');
    setLimit.mutate(
      { target, action, maxRunning },
      {
        onSuccess: () => {
          after?.();
          setAnnouncement(
            maxRunning === null
              ? `Limit on ${action} lifted: its tasks run as workers take them.`
              : `At most ${maxRunning} ${action} task${maxRunning === 1 ? '' : 's'} of ${target} run at once.`,
          );
        },
        onError: (error) =>
          setProblem(`The ${action} limit did not change: ${errorMessage(error)}`),
      },
    );
  }

  return (
    <div className="runner-limits">
      <h3 className="runner-subtitle" id={`${id}-title`}>
        Action limits
      </h3>
      {limits.length === 0 ? (
        <p className="muted">No limits: every action runs as many tasks as workers take.</p>
      ) : (
        <div className="table-wrap">
          <table aria-labelledby={`${id}-title`}>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Running / max</th>
                <th scope="col">
                  <span className="visually-hidden">Change</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {limits.map((limit) => (
                <LimitRow
                  key={limit.action}
                  limit={limit}
                  allowed={allowed}
                  disabledReason={disabledReason}
                  pending={setLimit.isPending}
                  onSave={(max) => save(limit.action, max)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <NewLimitForm
        allowed={allowed}
        disabledReason={disabledReason}
        pending={setLimit.isPending}
        onSave={save}
      />
      {!allowed && (
        <p className="field-hint">{needsRole('limitActions')} You can see the limits.</p>
      )}
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      <p className="visually-hidden" role="status">
        {announcement}
      </p>
    </div>
  );
}

function LimitRow({
  limit,
  allowed,
  disabledReason,
  pending,
  onSave,
}: {
  limit: ActionLimit;
  allowed: boolean;
  disabledReason: string | undefined;
  pending: boolean;
  onSave: (maxRunning: number | null) => void;
}) {
  const id = useId();
  const [text, setText] = useState(String(limit.max_running));
  const [error, setError] = useState<string | null>(null);
  const full = limit.running >= limit.max_running;

  function submit(event: FormEvent) {
    event.preventDefault();
    const problem = maxRunningProblem(text);
    setError(problem);
    if (!problem) onSave(Number(text.trim()));
  }

  return (
    <tr data-action={limit.action}>
      <td className="mono">{limit.action}</td>
      <td className={`num ${full ? 'runner-full' : ''}`}>
        {limit.running} / {limit.max_running}
        {full && <span className="visually-hidden"> (full)</span>}
      </td>
      <td>
        <form className="runner-limit-form" onSubmit={submit} aria-label={`Limit ${limit.action}`}>
          <label className="visually-hidden" htmlFor={`${id}-max`}>
            Max running for {limit.action}
          </label>
          <input
            id={`${id}-max`}
            className="runner-max-input"
            inputMode="numeric"
            value={text}
            disabled={!allowed}
            title={disabledReason}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-error` : undefined}
            onChange={(event) => {
              setText(event.target.value);
              setError(null);
            }}
          />
          <button
            className="btn btn-small"
            type="submit"
            disabled={!allowed || pending}
            title={disabledReason}
          >
            Save<span className="visually-hidden"> {limit.action} limit</span>
          </button>
          <button
            className="btn btn-small btn-quiet"
            type="button"
            disabled={!allowed || pending}
            title={disabledReason}
            onClick={() => onSave(null)}
          >
            Lift<span className="visually-hidden"> {limit.action} limit</span>
          </button>
          {error && (
            <span className="field-error" id={`${id}-error`}>
              {error}
            </span>
          )}
        </form>
      </td>
    </tr>
  );
}

function NewLimitForm({
  allowed,
  disabledReason,
  pending,
  onSave,
}: {
  allowed: boolean;
  disabledReason: string | undefined;
  pending: boolean;
  onSave: (action: string, maxRunning: number, after: () => void) => void;
}) {
  const id = useId();
  const [action, setAction] = useState('');
  const [max, setMax] = useState('1');
  const [errors, setErrors] = useState<{ action?: string; max?: string }>({});

  function submit(event: FormEvent) {
    event.preventDefault();
    const next = {
      action: ACTION_PATTERN.test(action.trim())
        ? undefined
        : "1-100 characters of a-z, 0-9, '_', '.', ':' or '-'.",
      max: maxRunningProblem(max) ?? undefined,
    };
    setErrors(next);
    if (next.action || next.max) return;
    onSave(action.trim(), Number(max.trim()), () => {
      setAction('');
      setMax('1');
    });
  }

  return (
    <form className="runner-new-limit" onSubmit={submit} aria-label="New action limit">
      <div className="field">
        <label htmlFor={`${id}-action`}>Action</label>
        <input
          id={`${id}-action`}
          value={action}
          placeholder="call_lead"
          maxLength={100}
          disabled={!allowed}
          title={disabledReason}
          aria-invalid={errors.action ? true : undefined}
          aria-describedby={errors.action ? `${id}-action-error` : undefined}
          onChange={(event) => {
            setAction(event.target.value);
            setErrors((current) => ({ ...current, action: undefined }));
          }}
        />
        {errors.action && (
          <span className="field-error" id={`${id}-action-error`}>
            {errors.action}
          </span>
        )}
      </div>
      <div className="field">
        <label htmlFor={`${id}-max`}>Max running</label>
        <input
          id={`${id}-max`}
          className="runner-max-input"
          inputMode="numeric"
          value={max}
          disabled={!allowed}
          title={disabledReason}
          aria-invalid={errors.max ? true : undefined}
          aria-describedby={errors.max ? `${id}-max-error` : undefined}
          onChange={(event) => {
            setMax(event.target.value);
            setErrors((current) => ({ ...current, max: undefined }));
          }}
        />
        {errors.max && (
          <span className="field-error" id={`${id}-max-error`}>
            {errors.max}
          </span>
        )}
      </div>
      <button className="btn" type="submit" disabled={!allowed || pending} title={disabledReason}>
        Set limit
      </button>
    </form>
  );
}
