import type { ChainStep } from '../../data/tasks/tasks-chain-create-mutation.ts';

/**
 * The one-step Lead-Gen run (product note 004's Discovery → Enrichment →
 * Scoring): the card's fields, their checks, and the three chained steps
 * they become. The handlers check the payloads again; these checks are
 * the same rules, said before anything is sent.
 */

/** What the card's inputs hold: text, as typed. */
export interface LeadGenRunValues {
  /** Comma-separated; empty for any. */
  industries: string;
  locations: string;
  employeesMin: string;
  employeesMax: string;
  companiesToFind: string;
  minQualityScore: string;
}

export type LeadGenRunField = keyof LeadGenRunValues;
export type LeadGenRunErrors = Partial<Record<LeadGenRunField, string>>;

export const DEFAULT_LEAD_GEN_RUN: LeadGenRunValues = {
  industries: 'SaaS, FinTech',
  locations: 'UK, Ireland',
  employeesMin: '10',
  employeesMax: '500',
  companiesToFind: '10',
  minQualityScore: '4',
};

/** The agent whose workers run the chain. */
export const LEAD_GEN_TARGET = 'lead-gen';

/**
 * Each stage's output (a result envelope) must fit the port's 16 KiB; 20
 * enriched leads with their provenance do (agents/lead-gen's size test).
 */
export const MAX_COMPANIES_TO_FIND = 20;
const MAX_LIST_ITEMS = 20;
const MAX_ITEM_CHARS = 100;

export interface GoalCriteria {
  industry?: string[];
  location?: string[];
  employee_count?: { min?: number; max?: number };
}

export interface LeadGenRunInput {
  goal_criteria: GoalCriteria;
  companies_to_find: number;
  min_quality_score: number;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function listProblem(items: string[]): string | undefined {
  if (items.length > MAX_LIST_ITEMS) return `At most ${MAX_LIST_ITEMS}, separated by commas.`;
  if (items.some((item) => item.length > MAX_ITEM_CHARS))
    return `Each at most ${MAX_ITEM_CHARS} characters.`;
  return undefined;
}

/** A whole number from text, or null for empty; NaN when it is not one. */
function wholeNumber(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  return /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

export function validateLeadGenRun(
  values: LeadGenRunValues,
): { ok: true; input: LeadGenRunInput } | { ok: false; errors: LeadGenRunErrors } {
  const errors: LeadGenRunErrors = {};
  const industries = list(values.industries);
  const locations = list(values.locations);
  errors.industries = listProblem(industries);
  errors.locations = listProblem(locations);

  const min = wholeNumber(values.employeesMin);
  const max = wholeNumber(values.employeesMax);
  if (Number.isNaN(min))
    errors.employeesMin = 'A whole number of employees, or empty for no minimum.';
  if (Number.isNaN(max))
    errors.employeesMax = 'A whole number of employees, or empty for no maximum.';
  else if (min !== null && max !== null && !Number.isNaN(min) && min > max)
    errors.employeesMax = 'Must not be below the minimum.';

  const companies = wholeNumber(values.companiesToFind);
  if (
    companies === null ||
    Number.isNaN(companies) ||
    companies < 1 ||
    companies > MAX_COMPANIES_TO_FIND
  )
    errors.companiesToFind = `A whole number from 1 to ${MAX_COMPANIES_TO_FIND}.`;

  const scoreText = values.minQualityScore.trim();
  const score = Number(scoreText);
  if (scoreText === '' || !Number.isFinite(score) || score < 0 || score > 5)
    errors.minQualityScore = 'A score from 0 to 5, e.g. 4 or 3.5.';

  const problems = Object.fromEntries(
    Object.entries(errors).filter(([, message]) => message !== undefined),
  ) as LeadGenRunErrors;
  if (Object.keys(problems).length > 0) return { ok: false, errors: problems };

  const goal_criteria: GoalCriteria = {};
  if (industries.length > 0) goal_criteria.industry = industries;
  if (locations.length > 0) goal_criteria.location = locations;
  if (min !== null || max !== null)
    goal_criteria.employee_count = {
      ...(min !== null ? { min } : {}),
      ...(max !== null ? { max } : {}),
    };
  return {
    ok: true,
    input: { goal_criteria, companies_to_find: companies!, min_quality_score: score },
  };
}

/**
 * The chain: discover_leads → enrich_lead → score_lead, one run id for the
 * three envelopes. Enrichment and scoring carry no leads: each reads them
 * from the output of the task it depends on.
 */
export function leadGenRunSteps(input: LeadGenRunInput, runId: string): ChainStep[] {
  return [
    {
      target: LEAD_GEN_TARGET,
      action: 'discover_leads',
      payload: {
        run_id: runId,
        goal_criteria: input.goal_criteria,
        target_metrics: { companies_to_find: input.companies_to_find },
      },
    },
    { target: LEAD_GEN_TARGET, action: 'enrich_lead', payload: { run_id: runId } },
    {
      target: LEAD_GEN_TARGET,
      action: 'score_lead',
      payload: {
        run_id: runId,
        goal_criteria: input.goal_criteria,
        target_metrics: { min_quality_score: input.min_quality_score },
      },
    },
  ];
}
