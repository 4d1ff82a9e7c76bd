import { ALL_SCOPES, type Scope } from '@omnihub/contracts';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { CreateApiKeyInput } from '../../data/api-keys/api-keys-create-mutation.ts';
import { errorMessage } from '../../data/errors.ts';
import {
  EXPIRY_CHOICES,
  expiresAtFor,
  localDateInputValue,
  parseMaxRpm,
  type ExpiryChoice,
} from './key-form-values.ts';

/** What each scope lets an agent do, in the port's terms. */
const SCOPE_HELP: Record<Scope, string> = {
  'events:write': 'send telemetry events (POST /events)',
  'tasks:create': 'create tasks (POST /tasks)',
  'tasks:claim': 'claim tasks and send heartbeats',
  'tasks:complete': 'report tasks done or failed',
  'metrics:read': "let Prometheus scrape the tenant's metrics (GET /metrics)",
};

interface Problems {
  scopes?: string;
  maxRpm?: string;
  expiry?: string;
}

/** Name, scopes, limit and expiry of a new key; the RPC checks all of it again. */
export function NewApiKeyForm({
  integrationId,
  source,
  pending,
  error,
  onSubmit,
  onCancel,
}: {
  integrationId: string;
  source: string;
  pending: boolean;
  error: unknown;
  onSubmit: (input: CreateApiKeyInput) => void;
  onCancel: () => void;
}) {
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const nameField = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [maxRpm, setMaxRpm] = useState('');
  const [expiry, setExpiry] = useState<ExpiryChoice>('never');
  const [date, setDate] = useState('');
  const [problems, setProblems] = useState<Problems>({});
  const [refusals, setRefusals] = useState(0);

  useEffect(() => nameField.current?.focus(), []);
  // After a refused submit, focus goes to the first field that needs fixing.
  useEffect(() => {
    if (refusals > 0) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [refusals]);

  function toggleScope(scope: Scope, on: boolean) {
    setScopes((current) =>
      on
        ? ALL_SCOPES.filter((s) => s === scope || current.includes(s))
        : current.filter((s) => s !== scope),
    );
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: Problems = {};
    if (scopes.length === 0) found.scopes = 'Choose at least one scope.';
    const rpm = parseMaxRpm(maxRpm);
    if ('problem' in rpm) found.maxRpm = rpm.problem;
    const expires = expiresAtFor(expiry, date, new Date());
    if ('problem' in expires) found.expiry = expires.problem;
    setProblems(found);
    if ('problem' in rpm || 'problem' in expires || Object.keys(found).length > 0) {
      setRefusals((count) => count + 1);
      return;
    }
    onSubmit({
      integrationId,
      name: name.trim() || null,
      scopes,
      maxRpm: rpm.maxRpm,
      expiresAt: expires.expiresAt,
    });
  }

  const describe = (...ids: (string | false | undefined)[]) =>
    ids.filter(Boolean).join(' ') || undefined;

  return (
    <form
      ref={form}
      className="key-form"
      onSubmit={submit}
      noValidate
      aria-labelledby={`${id}-title`}
    >
      <h3 id={`${id}-title`}>
        New API key for <span className="mono">{source}</span>
      </h3>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name (optional)</label>
        <input
          ref={nameField}
          id={`${id}-name`}
          value={name}
          maxLength={200}
          placeholder="e.g. laptop of Dana"
          onChange={(event) => setName(event.target.value)}
        />
      </div>

      <fieldset
        className="field"
        aria-describedby={describe(problems.scopes && `${id}-scopes-error`)}
      >
        <legend>Scopes</legend>
        {ALL_SCOPES.map((scope) => (
          <label className="checkbox" key={scope}>
            <input
              type="checkbox"
              checked={scopes.includes(scope)}
              aria-invalid={problems.scopes ? true : undefined}
              onChange={(event) => toggleScope(scope, event.target.checked)}
            />
            <span>
              <span className="mono">{scope}</span>{' '}
              <span className="muted">— {SCOPE_HELP[scope]}</span>
            </span>
          </label>
        ))}
        {problems.scopes && (
          <p className="field-error" id={`${id}-scopes-error`}>
            {problems.scopes}
          </p>
        )}
      </fieldset>

      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-rpm`}>Max requests per minute (optional)</label>
          <input
            id={`${id}-rpm`}
            inputMode="numeric"
            value={maxRpm}
            placeholder="no limit"
            aria-invalid={problems.maxRpm ? true : undefined}
            aria-describedby={describe(`${id}-rpm-hint`, problems.maxRpm && `${id}-rpm-error`)}
            onChange={(event) => setMaxRpm(event.target.value)}
          />
          <span className="field-hint" id={`${id}-rpm-hint`}>
            Past it the port answers 429. Empty: no limit.
          </span>
          {problems.maxRpm && (
            <p className="field-error" id={`${id}-rpm-error`}>
              {problems.maxRpm}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor={`${id}-expiry`}>Expires</label>
          <select
            id={`${id}-expiry`}
            value={expiry}
            onChange={(event) => setExpiry(event.target.value as ExpiryChoice)}
          >
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </div>
        {expiry === 'date' && (
          <div className="field">
            <label htmlFor={`${id}-date`}>Expiry date</label>
            <input
              id={`${id}-date`}
              type="date"
              value={date}
              min={localDateInputValue(new Date())}
              aria-invalid={problems.expiry ? true : undefined}
              aria-describedby={describe(`${id}-date-hint`, problems.expiry && `${id}-date-error`)}
              onChange={(event) => setDate(event.target.value)}
            />
            <span className="field-hint" id={`${id}-date-hint`}>
              The key works until the end of that day, your time.
            </span>
            {problems.expiry && (
              <p className="field-error" id={`${id}-date-error`}>
                {problems.expiry}
              </p>
            )}
          </div>
        )}
      </div>

      {error !== null && error !== undefined && (
        <p className="form-error" role="alert">
          The key was not created: {errorMessage(error)}
        </p>
      )}
      <div className="actions">
        <button className="btn btn-primary" type="submit" disabled={pending}>
          {pending ? 'Creating…' : 'Create key'}
        </button>
        <button className="btn" type="button" onClick={onCancel} disabled={pending}>
          Cancel
        </button>
      </div>
    </form>
  );
}
