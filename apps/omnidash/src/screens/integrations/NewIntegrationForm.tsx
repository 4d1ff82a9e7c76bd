import { Identifier } from '@omnihub/contracts';
import { useId, useState, type FormEvent } from 'react';
import { useCreateIntegrationMutation } from '../../data/integrations/integrations-create-mutation.ts';
import { errorMessage } from '../../data/errors.ts';

/** Admins connect a new agent source; others see the form disabled, with why. */
export function NewIntegrationForm({
  tenantId,
  canManage,
  disabledReason,
}: {
  tenantId: string;
  canManage: boolean;
  disabledReason: string;
}) {
  const id = useId();
  const create = useCreateIntegrationMutation(tenantId);
  const [source, setSource] = useState('');
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setCreated(null);
    const wanted = source.trim();
    const valid = Identifier.safeParse(wanted);
    if (!valid.success) {
      setProblem(
        wanted === ''
          ? 'Enter the source the agents send as, e.g. crm-sync.'
          : `The source ${valid.error.issues[0]?.message ?? 'is not valid'}.`,
      );
      document.getElementById(`${id}-source`)?.focus();
      return;
    }
    setProblem(null);
    create.mutate(
      { source: wanted, name: name.trim() || null },
      {
        onSuccess: (integration) => {
          setCreated(`Integration ${integration.name} (${integration.source}) created.`);
          setSource('');
          setName('');
        },
      },
    );
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>New integration</h2>
      <form className="integration-form" onSubmit={submit} noValidate>
        <fieldset disabled={!canManage || create.isPending}>
          <legend className="visually-hidden">New integration</legend>
          <div className="form-grid">
            <div className="field">
              <label htmlFor={`${id}-source`}>Source</label>
              <input
                id={`${id}-source`}
                value={source}
                autoCapitalize="none"
                spellCheck={false}
                placeholder="e.g. crm-sync"
                aria-invalid={problem ? true : undefined}
                aria-describedby={`${id}-source-hint${problem ? ` ${id}-source-error` : ''}`}
                onChange={(event) => setSource(event.target.value)}
              />
              <span className="field-hint" id={`${id}-source-hint`}>
                What its agents act as, and the target of tasks for them: a-z, 0-9, _ . : -
              </span>
              {problem && (
                <p className="field-error" id={`${id}-source-error`}>
                  {problem}
                </p>
              )}
            </div>
            <div className="field">
              <label htmlFor={`${id}-name`}>Name (optional)</label>
              <input
                id={`${id}-name`}
                value={name}
                maxLength={200}
                placeholder="the source, if empty"
                onChange={(event) => setName(event.target.value)}
              />
            </div>
          </div>
          {create.isError && (
            <p className="form-error" role="alert">
              The integration was not created: {errorMessage(create.error)}
            </p>
          )}
          <div className="actions">
            <button
              className="btn btn-primary"
              type="submit"
              title={canManage ? undefined : disabledReason}
              aria-describedby={canManage ? undefined : `${id}-why`}
            >
              {create.isPending ? 'Creating…' : 'Create integration'}
            </button>
            {!canManage && (
              <span className="field-hint" id={`${id}-why`}>
                {disabledReason}
              </span>
            )}
          </div>
        </fieldset>
      </form>
      <p className="form-success integration-created" role="status">
        {created}
      </p>
    </section>
  );
}
