import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LEAD_GEN_RUN,
  MAX_COMPANIES_TO_FIND,
  leadGenRunSteps,
  validateLeadGenRun,
  type LeadGenRunValues,
} from './lead-gen-run-form.ts';

const values = (overrides: Partial<LeadGenRunValues> = {}) => ({
  ...DEFAULT_LEAD_GEN_RUN,
  ...overrides,
});

describe('validateLeadGenRun', () => {
  it('turns the defaults into note 004’s goal', () => {
    expect(validateLeadGenRun(DEFAULT_LEAD_GEN_RUN)).toEqual({
      ok: true,
      input: {
        goal_criteria: {
          industry: ['SaaS', 'FinTech'],
          location: ['UK', 'Ireland'],
          employee_count: { min: 10, max: 500 },
        },
        companies_to_find: 10,
        min_quality_score: 4,
      },
    });
  });

  it('leaves out the criteria left empty, and keeps one bound of the range', () => {
    expect(
      validateLeadGenRun(
        values({ industries: ' , ', locations: '', employeesMin: '', employeesMax: '50' }),
      ),
    ).toMatchObject({ ok: true, input: { goal_criteria: { employee_count: { max: 50 } } } });
    const none = validateLeadGenRun(
      values({ industries: '', locations: '', employeesMin: '', employeesMax: '' }),
    );
    expect(none).toMatchObject({ ok: true, input: { goal_criteria: {} } });
  });

  it.each<[string, Partial<LeadGenRunValues>, Record<string, string>]>([
    [
      'a range upside down',
      { employeesMin: '500', employeesMax: '10' },
      { employeesMax: 'Must not be below the minimum.' },
    ],
    [
      'a fractional employee count',
      { employeesMin: '2.5' },
      { employeesMin: 'A whole number of employees, or empty for no minimum.' },
    ],
    [
      'no companies to find',
      { companiesToFind: '0' },
      { companiesToFind: `A whole number from 1 to ${MAX_COMPANIES_TO_FIND}.` },
    ],
    [
      'more companies than an output holds',
      { companiesToFind: '21' },
      { companiesToFind: `A whole number from 1 to ${MAX_COMPANIES_TO_FIND}.` },
    ],
    [
      'a score above 5',
      { minQualityScore: '5.5' },
      { minQualityScore: 'A score from 0 to 5, e.g. 4 or 3.5.' },
    ],
    [
      'no score',
      { minQualityScore: ' ' },
      { minQualityScore: 'A score from 0 to 5, e.g. 4 or 3.5.' },
    ],
    [
      '21 industries',
      { industries: Array.from({ length: 21 }, (_, i) => `i${i}`).join(',') },
      { industries: 'At most 20, separated by commas.' },
    ],
  ])('refuses %s, saying which field and why', (_name, overrides, errors) => {
    expect(validateLeadGenRun(values(overrides))).toEqual({ ok: false, errors });
  });
});

describe('leadGenRunSteps', () => {
  it('chains discover_leads → enrich_lead → score_lead for lead-gen under one run id', () => {
    const result = validateLeadGenRun(values({ minQualityScore: '3.5' }));
    if (!result.ok) throw new Error('invalid');
    const steps = leadGenRunSteps(result.input, 'run-1');
    expect(steps).toEqual([
      {
        target: 'lead-gen',
        action: 'discover_leads',
        payload: {
          run_id: 'run-1',
          goal_criteria: result.input.goal_criteria,
          target_metrics: { companies_to_find: 10 },
        },
      },
      // No leads: enrichment and scoring read them from the task they depend on.
      { target: 'lead-gen', action: 'enrich_lead', payload: { run_id: 'run-1' } },
      {
        target: 'lead-gen',
        action: 'score_lead',
        payload: {
          run_id: 'run-1',
          goal_criteria: result.input.goal_criteria,
          target_metrics: { min_quality_score: 3.5 },
        },
      },
    ]);
  });
});
