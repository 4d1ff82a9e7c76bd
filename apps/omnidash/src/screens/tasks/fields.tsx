import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { errorMessage } from '../../data/errors.ts';

/** The accessibility wiring of an input with an optional hint and error (both by id). */
export function describedBy(id: string, hint: boolean, error: string | undefined) {
  const ids = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ');
  return {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': ids || undefined,
  } as const;
}

export function FieldHint({ id, children }: { id: string; children: ReactNode }) {
  return (
    <p className="field-hint" id={`${id}-hint`}>
      {children}
    </p>
  );
}

export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  if (!error) return null;
  return (
    <p className="field-error" id={`${id}-error`}>
      {error}
    </p>
  );
}

/** A target picker over the tenant's integration sources, with their loading, error and empty states. */
export function TargetSelect({
  id,
  label,
  value,
  onChange,
  targets,
  error,
  hint = true,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  targets: UseQueryResult<string[]>;
  error: string | undefined;
  /** Whether to say what a target is (an empty list is always explained). */
  hint?: boolean;
}) {
  const problem = targets.isError
    ? `Could not load the targets: ${errorMessage(targets.error)}`
    : error;
  const empty = targets.data?.length === 0;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        {...describedBy(id, hint || empty, problem)}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      >
        {targets.isPending && <option value="">Loading targets…</option>}
        {targets.data?.length === 0 && <option value="">No integrations yet</option>}
        {targets.data?.map((target) => (
          <option key={target} value={target}>
            {target}
          </option>
        ))}
      </select>
      {(hint || empty) && (
        <FieldHint id={id}>
          {empty ? (
            <>
              A task goes to an integration’s workers: add an integration on the{' '}
              <Link to="/omnidash/integrations">Integrations</Link> screen first.
            </>
          ) : (
            'The integration whose workers run it.'
          )}
        </FieldHint>
      )}
      <FieldError id={id} error={problem} />
    </div>
  );
}

/** A whole number from `min` to `max` (priority, attempts), with an optional hint and its error. */
export function WholeNumberField({
  id,
  label,
  value,
  min,
  max,
  hint,
  error,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  min: number;
  max: number;
  hint?: ReactNode;
  error: string | undefined;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        {...describedBy(id, hint !== undefined, error)}
        type="number"
        inputMode="numeric"
        min={min}
        max={max}
        step={1}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
      {hint !== undefined && <FieldHint id={id}>{hint}</FieldHint>}
      <FieldError id={id} error={error} />
    </div>
  );
}
