import { useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { errorMessage } from '../../data/errors.ts';
import { useTaskTargetsQuery } from '../../data/integrations/integrations-query.ts';
import { useCreateTaskChainMutation } from '../../data/tasks/tasks-chain-create-mutation.ts';
import { useTaskChainQuery } from '../../data/tasks/tasks-chain-query.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { describedBy, FieldError, FieldHint } from './fields.tsx';
import {
  DEFAULT_LEAD_GEN_RUN,
  LEAD_GEN_TARGET,
  MAX_COMPANIES_TO_FIND,
  leadGenRunSteps,
  validateLeadGenRun,
  type LeadGenRunErrors,
  type LeadGenRunField,
  type LeadGenRunValues,
} from './lead-gen-run-form.ts';
import { newRequestKey, randomHex } from './request-key.ts';
import { ChainList } from './TaskChain.tsx';
import { shortId } from './task-format.ts';

const ID = 'lead-gen-run';
const FIELD_ORDER: LeadGenRunField[] = [
  'industries',
  'locations',
  'employeesMin',
  'employeesMax',
  'companiesToFind',
  'minQualityScore',
];
const fieldId = (field: LeadGenRunField) => `${ID}-${field}`;

/**
 * Note 004's Lead-Gen pipeline in one step: Discovery → Enrichment →
 * Scoring as three chained tasks (create_task_chain), followed live here
 * until the scoring task, whose records are the scored leads, ends.
 */
export function LeadGenRunCard() {
  const tenant = useTenant();
  const location = useLocation();
  const allowed = tenant.can('operateTasks');
  const targets = useTaskTargetsQuery(tenant.tenantId);
  const create = useCreateTaskChainMutation(tenant.tenantId);
  const [values, setValues] = useState<LeadGenRunValues>(DEFAULT_LEAD_GEN_RUN);
  const [errors, setErrors] = useState<LeadGenRunErrors>({});
  const [checked, setChecked] = useState(false);
  const [run, setRun] = useState<{ runId: string; scoringId: string } | null>(null);
  const chain = useTaskChainQuery(tenant.tenantId, run?.scoringId ?? null);
  /** Kept while the same request is re-sent (a network failure), so it can never start two runs. */
  const request = useRef<{ key: string; runId: string } | null>(null);
  const noLeadGen = targets.data !== undefined && !targets.data.includes(LEAD_GEN_TARGET);

  function change(field: LeadGenRunField, value: string) {
    const next = { ...values, [field]: value };
    setValues(next);
    request.current = null;
    if (checked) {
      const result = validateLeadGenRun(next);
      setErrors(result.ok ? {} : result.errors);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setChecked(true);
    const result = validateLeadGenRun(values);
    if (!result.ok) {
      setErrors(result.errors);
      const first = FIELD_ORDER.find((field) => result.errors[field]);
      if (first) setTimeout(() => document.getElementById(fieldId(first))?.focus());
      return;
    }
    setErrors({});
    request.current ??= { key: newRequestKey(), runId: `lead-gen-run-${randomHex(6)}` };
    const { key, runId } = request.current;
    create.mutate(
      { steps: leadGenRunSteps(result.input, runId), idempotencyKey: key },
      {
        onSuccess: (answer) => {
          setRun({ runId, scoringId: answer.tasks.at(-1)!.id });
          request.current = null;
        },
      },
    );
  }

  const field = (name: LeadGenRunField, label: string, hint: string, numeric = false) => (
    <div className="field">
      <label htmlFor={fieldId(name)}>{label}</label>
      <input
        {...describedBy(fieldId(name), true, errors[name])}
        value={values[name]}
        inputMode={numeric ? 'decimal' : undefined}
        autoComplete="off"
        spellCheck={false}
        onChange={(event) => change(name, event.target.value)}
      />
      <FieldHint id={fieldId(name)}>{hint}</FieldHint>
      <FieldError id={fieldId(name)} error={errors[name]} />
    </div>
  );

  return (
    <form className="card task-form" aria-labelledby={`${ID}-title`} onSubmit={submit} noValidate>
      <h2 id={`${ID}-title`}>Discovery → Enrichment → Scoring</h2>
      <p className="muted">
        Lead-Gen finds companies matching the goal, enriches them and scores them, as three chained
        tasks started at once.
      </p>
      {!allowed && (
        <p className="notice" id={`${ID}-role`}>
          You can follow runs but not start them. {needsRole('operateTasks')}
        </p>
      )}
      {allowed && noLeadGen && (
        <p className="notice" role="note">
          This tenant has no {LEAD_GEN_TARGET} integration yet: the tasks will wait until a Lead-Gen
          worker connects.
        </p>
      )}
      <fieldset disabled={!allowed}>
        <legend className="visually-hidden">The goal of the run</legend>
        <div className="form-grid">
          {field('industries', 'Industries', 'Separated by commas; empty for any.')}
          {field('locations', 'Locations', 'Separated by commas; empty for any.')}
          {field('employeesMin', 'Employees from', 'Empty for no minimum.', true)}
          {field('employeesMax', 'Employees to', 'Empty for no maximum.', true)}
          {field('companiesToFind', 'Companies to find', `1 to ${MAX_COMPANIES_TO_FIND}.`, true)}
          {field(
            'minQualityScore',
            'Min quality score',
            '0 to 5: leads scoring this or more are announced as qualified.',
            true,
          )}
        </div>
      </fieldset>
      {create.isError && (
        <p className="form-error" role="alert">
          Could not start the run: {errorMessage(create.error)}
        </p>
      )}
      <div className="actions">
        <button
          className="btn btn-primary"
          type="submit"
          disabled={!allowed || create.isPending}
          title={allowed ? undefined : needsRole('operateTasks')}
          aria-describedby={allowed ? undefined : `${ID}-role`}
        >
          {create.isPending ? 'Starting…' : 'Start run'}
        </button>
      </div>
      <div role="status" aria-live="polite" className="lead-gen-run-result">
        {run && (
          <p className="form-success">
            Started run <span className="mono">{run.runId}</span>: the scored leads will be in
            scoring task{' '}
            <Link
              to={`/omnidash/tasks/${run.scoringId}`}
              state={{ from: location.search }}
              className="mono"
            >
              {shortId(run.scoringId)}
            </Link>
            .
          </p>
        )}
      </div>
      {run && chain.data && (
        <ChainList members={chain.data} label="Run progress" markTask={false} />
      )}
    </form>
  );
}
