import { describe, expect, it } from 'vitest';
import {
  COMPANY_DIRECTORY,
  QUALITY_WEIGHTS,
  discoverLeads,
  enrichLead,
  priorityFor,
  scoreLead,
  type EnrichedLead,
} from './pipeline.ts';

const ids = (leads: readonly { lead_id: string }[]) => leads.map((lead) => lead.lead_id);

/** A fixed lead whose every score component is easy to work out by hand. */
function fixture(overrides: Partial<EnrichedLead> = {}): EnrichedLead {
  return {
    lead_id: 'fixture-1',
    company: 'Fixture Ltd',
    url: 'https://fixture-ltd.example.com',
    role: 'CTO',
    industry: 'SaaS',
    location: 'Germany',
    employee_count: 250,
    phone: null,
    email: 'hello@fixture-ltd.example.com',
    signals: ['job_posting'],
    enrichment: {
      tech_stack: ['React', 'PostgreSQL'],
      employee_growth_pct: -5,
      social_presence_score: 0.6,
      companies_house_number: null,
    },
    ...overrides,
  };
}

const withEnrichment = (enrichment: Partial<EnrichedLead['enrichment']>) =>
  fixture({ enrichment: { ...fixture().enrichment, ...enrichment } });

describe('COMPANY_DIRECTORY', () => {
  it('holds 30 distinct fictional companies across the five industries and locations', () => {
    expect(COMPANY_DIRECTORY).toHaveLength(30);
    expect(new Set(ids(COMPANY_DIRECTORY)).size).toBe(30);
    expect(new Set(COMPANY_DIRECTORY.map((l) => l.industry))).toEqual(
      new Set(['SaaS', 'FinTech', 'HealthTech', 'Retail', 'Logistics']),
    );
    expect(new Set(COMPANY_DIRECTORY.map((l) => l.location))).toEqual(
      new Set(['UK', 'Ireland', 'Germany', 'France', 'US']),
    );
  });

  it('spans sizes 5..2000, misses some phones and emails, and varies its signals', () => {
    const sizes = COMPANY_DIRECTORY.map((l) => l.employee_count);
    expect(Math.min(...sizes)).toBe(5);
    expect(Math.max(...sizes)).toBe(2000);
    expect(COMPANY_DIRECTORY.some((l) => l.phone === null)).toBe(true);
    expect(COMPANY_DIRECTORY.some((l) => l.email === null)).toBe(true);
    expect(COMPANY_DIRECTORY.some((l) => l.signals.length === 0)).toBe(true);
    expect(COMPANY_DIRECTORY.some((l) => l.signals.length >= 2)).toBe(true);
  });

  it('uses only reserved example.com addresses and fictional phone ranges', () => {
    for (const lead of COMPANY_DIRECTORY) {
      expect(lead.url).toMatch(/^https:\/\/[a-z0-9-]+\.example\.com$/);
      if (lead.email !== null) expect(lead.email).toMatch(/@[a-z0-9-]+\.example\.com$/);
      if (lead.phone !== null) {
        expect(lead.phone).toMatch(
          /^(\+44 20 7946 0\d{3}|\+44 (113|121|161) 496 0\d{3}|\+1 \d{3} 555 01\d{2})$/,
        );
      }
    }
  });
});

describe('discoverLeads', () => {
  it('returns the whole directory when no criteria are given', () => {
    const result = discoverLeads({});
    expect(result.companies_found).toBe(30);
    expect(result.items_created).toBe(30);
    expect(ids(result.leads)).toEqual(ids(COMPANY_DIRECTORY));
  });

  it('filters by industry and by location', () => {
    const saas = discoverLeads({ goal_criteria: { industry: ['SaaS'] } });
    expect(ids(saas.leads)).toEqual(['co-001', 'co-002', 'co-003', 'co-004', 'co-005', 'co-006']);
    const uk = discoverLeads({ goal_criteria: { location: ['UK'] } });
    expect(uk.companies_found).toBe(10);
    expect(uk.leads.every((l) => l.location === 'UK')).toBe(true);
  });

  it('requires every given criterion', () => {
    const result = discoverLeads({
      goal_criteria: {
        industry: ['SaaS', 'FinTech'],
        location: ['UK', 'Ireland'],
        employee_count: { min: 50, max: 500 },
      },
    });
    // co-002 (45 staff) and co-008 (540 staff) are in the right industries and places but out of range.
    expect(ids(result.leads)).toEqual(['co-001', 'co-006', 'co-007', 'co-009']);
    expect(result.companies_found).toBe(4);
    expect(result.items_created).toBe(4);
  });

  it('treats the employee range as inclusive, with either bound optional', () => {
    const only = (range: { min?: number; max?: number }) =>
      ids(discoverLeads({ goal_criteria: { employee_count: range } }).leads);
    expect(only({ min: 120, max: 120 })).toEqual(['co-001']);
    expect(only({ min: 2000 })).toEqual(['co-004']);
    expect(only({ max: 5 })).toEqual(['co-005']);
    expect(only({ min: 121, max: 119 })).toEqual([]);
  });

  it('matches industry and location names regardless of case and surrounding spaces', () => {
    const result = discoverLeads({ goal_criteria: { industry: [' fintech'], location: ['uk'] } });
    expect(ids(result.leads)).toEqual(['co-007', 'co-008']);
  });

  it('treats an empty list or an unbounded range as no constraint', () => {
    const result = discoverLeads({
      goal_criteria: { industry: [], location: [], employee_count: {} },
    });
    expect(result.companies_found).toBe(30);
  });

  it('returns nothing when nothing matches', () => {
    expect(discoverLeads({ goal_criteria: { industry: ['Mining'] } })).toEqual({
      companies_found: 0,
      items_created: 0,
      leads: [],
    });
  });

  it('creates at most companies_to_find leads, the first matches in directory order', () => {
    const result = discoverLeads({
      goal_criteria: { location: ['UK'] },
      target_metrics: { companies_to_find: 3 },
    });
    expect(result.companies_found).toBe(10);
    expect(result.items_created).toBe(3);
    expect(ids(result.leads)).toEqual(['co-001', 'co-006', 'co-007']);

    const none = discoverLeads({ target_metrics: { companies_to_find: 0 } });
    expect(none).toEqual({ companies_found: 30, items_created: 0, leads: [] });
  });

  it('defaults companies_to_find to 50, above the directory size', () => {
    expect(discoverLeads({ target_metrics: {} }).items_created).toBe(30);
    expect(discoverLeads({ target_metrics: { companies_to_find: 29 } }).items_created).toBe(29);
  });

  it.each([[-1], [2.5], [Number.NaN]])('refuses companies_to_find %s', (companies_to_find) => {
    expect(() => discoverLeads({ target_metrics: { companies_to_find } })).toThrow(RangeError);
  });

  it('is deterministic and hands out copies, not the directory itself', () => {
    const first = discoverLeads({ goal_criteria: { industry: ['Retail'] } });
    expect(discoverLeads({ goal_criteria: { industry: ['Retail'] } })).toEqual(first);
    const lead = first.leads[0];
    if (!lead) throw new Error('expected a lead');
    lead.company = 'Changed';
    lead.signals.push('changed');
    expect(COMPANY_DIRECTORY[18]?.company).toBe('Oakhollow Goods');
    expect(COMPANY_DIRECTORY[18]?.signals).toEqual(['job_posting']);
  });
});

describe('enrichLead', () => {
  const TECH = new Set([
    'React',
    'Node.js',
    'PostgreSQL',
    'AWS',
    'Salesforce',
    'HubSpot',
    'Stripe',
    'Shopify',
    'Kubernetes',
    'Snowflake',
  ]);

  it('gives the same enrichment every time for the same lead', () => {
    for (const lead of COMPANY_DIRECTORY) expect(enrichLead(lead)).toEqual(enrichLead(lead));
    const [a, b] = COMPANY_DIRECTORY;
    if (!a || !b) throw new Error('expected leads');
    expect(enrichLead({ ...b, lead_id: a.lead_id }).enrichment.tech_stack).toEqual(
      enrichLead(a).enrichment.tech_stack,
    );
  });

  it('keeps the lead fields and adds enrichment within the documented ranges', () => {
    for (const lead of COMPANY_DIRECTORY) {
      const enriched = enrichLead(lead);
      const { enrichment, ...rest } = enriched;
      expect(rest).toEqual(lead);
      expect(enrichment.tech_stack.length).toBeLessThanOrEqual(4);
      expect(new Set(enrichment.tech_stack).size).toBe(enrichment.tech_stack.length);
      for (const tech of enrichment.tech_stack) expect(TECH.has(tech)).toBe(true);
      expect(Number.isInteger(enrichment.employee_growth_pct)).toBe(true);
      expect(enrichment.employee_growth_pct).toBeGreaterThanOrEqual(-10);
      expect(enrichment.employee_growth_pct).toBeLessThanOrEqual(60);
      expect(enrichment.social_presence_score).toBeGreaterThanOrEqual(0);
      expect(enrichment.social_presence_score).toBeLessThanOrEqual(1);
      expect(Math.round(enrichment.social_presence_score * 100) / 100).toBe(
        enrichment.social_presence_score,
      );
    }
  });

  it('uses the whole tech-stack range, from none to four', () => {
    const sizes = new Set(COMPANY_DIRECTORY.map((l) => enrichLead(l).enrichment.tech_stack.length));
    expect([...sizes].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('gives a Companies House number to UK companies only', () => {
    for (const lead of COMPANY_DIRECTORY) {
      const number = enrichLead(lead).enrichment.companies_house_number;
      if (lead.location === 'UK') expect(number).toMatch(/^\d{8}$/);
      else expect(number).toBeNull();
    }
  });

  it('leaves its input untouched', () => {
    const lead = { ...fixture(), signals: ['job_posting'] };
    const enriched = enrichLead(lead);
    enriched.signals.push('changed');
    expect(lead.signals).toEqual(['job_posting']);
  });
});

describe('scoreLead', () => {
  it('applies the weights 2, 1, 1, 1', () => {
    expect(QUALITY_WEIGHTS).toEqual({
      criteria_match: 2,
      data_completeness: 1,
      enrichment_quality: 1,
      buying_signals: 1,
    });
  });

  it('scores the fixture as worked out by hand, rounding the total from unrounded parts', () => {
    const score = scoreLead(fixture(), {
      industry: ['SaaS'],
      location: ['UK'],
      employee_count: { min: 100 },
    });
    // criteria 2 of 3 = 0.6667; fields 7 of 8 (no phone) = 0.875;
    // enrichment (1 + 0 + 0.6) / 3 = 0.5333; one signal = 0.5.
    // 2 × 0.6667 + 0.875 + 0.5333 + 0.5 = 3.2417 → 3.24 (the rounded parts would give 3.25).
    expect(score).toEqual({
      lead_id: 'fixture-1',
      quality_score: 3.24,
      priority: 'medium',
      components: {
        criteria_match: 0.67,
        data_completeness: 0.88,
        enrichment_quality: 0.53,
        buying_signals: 0.5,
      },
    });
  });

  it('gives full criteria match when no criteria are given', () => {
    const score = scoreLead(
      withEnrichment({ tech_stack: [], employee_growth_pct: 0, social_presence_score: 0.35 }),
    );
    // 2 × 1 + 0.875 + (0 + 0 + 0.35) / 3 + 0.5 = 3.4917 → 3.49.
    expect(score.components).toEqual({
      criteria_match: 1,
      data_completeness: 0.88,
      enrichment_quality: 0.12,
      buying_signals: 0.5,
    });
    expect(score.quality_score).toBe(3.49);
    expect(scoreLead(fixture(), {}).components.criteria_match).toBe(1);
  });

  it('counts only the criteria given, and no match at all as 0', () => {
    expect(scoreLead(fixture(), { industry: ['SaaS'], location: ['UK'] }).components).toMatchObject(
      { criteria_match: 0.5 },
    );
    expect(scoreLead(fixture(), { employee_count: { max: 249 } }).components.criteria_match).toBe(
      0,
    );
    expect(scoreLead(fixture(), { employee_count: { max: 250 } }).components.criteria_match).toBe(
      1,
    );
    expect(scoreLead(fixture(), { location: ['uk', 'germany'] }).components.criteria_match).toBe(1);
  });

  it('rounds half up, including totals that binary arithmetic lands just below .5', () => {
    // 2 + 0.875 + (1 + 0 + 0.83) / 3 + 1 = 4.485 exactly, computed as 4.48499…
    const high = scoreLead(
      fixture({
        signals: ['job_posting', 'funding_round'],
        phone: '+44 20 7946 0000',
        email: null,
        enrichment: {
          ...fixture().enrichment,
          employee_growth_pct: 0,
          social_presence_score: 0.83,
        },
      }),
    );
    expect(high.quality_score).toBe(4.49);
    expect(high.priority).toBe('high');
    // 2 + 0.875 + (1 + 0 + 0.86) / 3 + 1 = 4.495 → 4.50, so the priority follows the shown score.
    const critical = scoreLead(
      fixture({
        signals: ['job_posting', 'funding_round'],
        phone: '+44 20 7946 0000',
        email: null,
        enrichment: {
          ...fixture().enrichment,
          employee_growth_pct: 0,
          social_presence_score: 0.86,
        },
      }),
    );
    expect(critical.quality_score).toBe(4.5);
    expect(critical.priority).toBe('critical');
    expect(critical.components.data_completeness).toBe(0.88);
  });

  it('counts blank text fields as missing', () => {
    const score = scoreLead(fixture({ role: '  ', url: '', phone: '+44 20 7946 0000' }));
    // 6 of 8 fields.
    expect(score.components.data_completeness).toBe(0.75);
  });

  it('scores buying signals as min(1, distinct signals / 2)', () => {
    const signals = (list: string[]) =>
      scoreLead(fixture({ signals: list })).components.buying_signals;
    expect(signals([])).toBe(0);
    expect(signals(['job_posting'])).toBe(0.5);
    expect(signals(['job_posting', 'job_posting'])).toBe(0.5);
    expect(signals(['job_posting', 'funding_round'])).toBe(1);
    expect(signals(['job_posting', 'funding_round', 'leadership_change'])).toBe(1);
  });

  it('reaches exactly 5 for a perfect lead and 0 for an empty one', () => {
    const perfect = scoreLead(
      fixture({
        phone: '+44 20 7946 0000',
        signals: ['job_posting', 'funding_round'],
        enrichment: {
          tech_stack: ['AWS'],
          employee_growth_pct: 12,
          social_presence_score: 1,
          companies_house_number: null,
        },
      }),
    );
    expect(perfect.quality_score).toBe(5);
    expect(perfect.priority).toBe('critical');

    const empty = scoreLead(
      {
        lead_id: 'empty',
        company: '',
        url: '',
        role: '',
        industry: '',
        location: '',
        employee_count: Number.NaN,
        phone: null,
        email: null,
        signals: [],
        enrichment: {
          tech_stack: [],
          employee_growth_pct: -10,
          social_presence_score: 0,
          companies_house_number: null,
        },
      },
      { industry: ['SaaS'] },
    );
    expect(empty.quality_score).toBe(0);
    expect(empty.priority).toBe('low');
  });

  it('keeps every directory score on the 0..5 scale with 0..1 components of 2 decimals', () => {
    const twoDecimals = (n: number) => Math.round(n * 100) / 100 === n;
    for (const lead of COMPANY_DIRECTORY) {
      const score = scoreLead(enrichLead(lead), { industry: ['SaaS'], location: ['UK'] });
      expect(score.lead_id).toBe(lead.lead_id);
      expect(score.quality_score).toBeGreaterThanOrEqual(0);
      expect(score.quality_score).toBeLessThanOrEqual(5);
      expect(twoDecimals(score.quality_score)).toBe(true);
      expect(score.priority).toBe(priorityFor(score.quality_score));
      for (const value of Object.values(score.components)) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
        expect(twoDecimals(value)).toBe(true);
      }
    }
  });
});

describe('priorityFor', () => {
  it.each([
    [0, 'low'],
    [2.99, 'low'],
    [3, 'medium'],
    [3.99, 'medium'],
    [4, 'high'],
    [4.49, 'high'],
    [4.5, 'critical'],
    [5, 'critical'],
  ])('ranks %s as %s', (score, priority) => {
    expect(priorityFor(score)).toBe(priority);
  });
});
