/**
 * The Discovery → Enrichment → Scoring pipeline of product note 004 (the
 * oppSpot agent runner), over a fixed fictional directory so every run is
 * repeatable.
 */

export interface GoalCriteria {
  industry?: string[];
  location?: string[];
  employee_count?: { min?: number; max?: number };
}

export interface DiscoverInput {
  goal_criteria?: GoalCriteria;
  target_metrics?: { companies_to_find?: number; min_quality_score?: number };
}

export interface Lead {
  lead_id: string;
  company: string;
  url: string;
  role: string;
  industry: string;
  location: string;
  employee_count: number;
  phone: string | null;
  email: string | null;
  /** Buying signals, e.g. 'job_posting', 'funding_round', 'leadership_change'. */
  signals: string[];
}

export interface EnrichedLead extends Lead {
  enrichment: {
    tech_stack: string[];
    employee_growth_pct: number;
    /** 0..1, 2 decimals. */
    social_presence_score: number;
    companies_house_number: string | null;
  };
}

export interface LeadScore {
  lead_id: string;
  /** 0..5, 2 decimals. */
  quality_score: number;
  priority: 'critical' | 'high' | 'medium' | 'low';
  /** Each 0..1, 2 decimals. */
  components: {
    criteria_match: number;
    data_completeness: number;
    enrichment_quality: number;
    buying_signals: number;
  };
}

type DirectoryRow = [
  id: number,
  company: string,
  slug: string,
  role: string,
  industry: string,
  location: string,
  employees: number,
  phone: string | null,
  hasEmail: boolean,
  signals: string[],
];

// Phones are all in Ofcom's UK drama ranges or the US 555-0100–0199 block
// (European companies list their UK sales line), so a demo can never ring a
// real business; urls and emails are under example.com for the same reason.
// prettier-ignore
const DIRECTORY_ROWS: DirectoryRow[] = [
  [1, 'Brightloom Software', 'brightloom-software', 'CTO', 'SaaS', 'UK', 120, '+44 20 7946 0201', true, ['job_posting', 'funding_round']],
  [2, 'Quillstack', 'quillstack', 'VP Sales', 'SaaS', 'Ireland', 45, '+44 20 7946 0202', true, ['funding_round']],
  [3, 'Nimbleform', 'nimbleform', 'Head of Growth', 'SaaS', 'Germany', 310, null, true, ['job_posting']],
  [4, 'Cobaltline Cloud', 'cobaltline-cloud', 'CTO', 'SaaS', 'US', 2000, '+1 202 555 0104', true, ['leadership_change', 'job_posting', 'office_expansion']],
  [5, 'Tessellate Labs', 'tessellate-labs', 'CEO', 'SaaS', 'France', 5, '+44 20 7946 0205', false, []],
  [6, 'Harbourview Analytics', 'harbourview-analytics', 'Head of Growth', 'SaaS', 'UK', 60, '+44 161 496 0206', true, ['job_posting']],
  [7, 'Ledgerlark', 'ledgerlark', 'VP Sales', 'FinTech', 'UK', 85, '+44 20 7946 0207', true, ['funding_round', 'job_posting']],
  [8, 'Penny Meadow Payments', 'penny-meadow-payments', 'COO', 'FinTech', 'UK', 540, null, false, ['leadership_change']],
  [9, 'Kestrel Clearing', 'kestrel-clearing', 'CTO', 'FinTech', 'Ireland', 230, '+44 20 7946 0209', true, []],
  [10, 'Feldmark Finanz', 'feldmark-finanz', 'Head of Partnerships', 'FinTech', 'Germany', 1400, '+44 20 7946 0210', true, ['office_expansion']],
  [11, 'Sablier Pay', 'sablier-pay', 'CEO', 'FinTech', 'France', 18, null, true, ['funding_round']],
  [12, 'Copperfield Pay', 'copperfield-pay', 'VP Sales', 'FinTech', 'US', 760, '+1 202 555 0112', true, ['job_posting', 'leadership_change']],
  [13, 'Wellspring Diagnostics', 'wellspring-diagnostics', 'CTO', 'HealthTech', 'UK', 400, '+44 113 496 0213', true, ['funding_round', 'new_product_launch']],
  [14, 'Medinook', 'medinook', 'CEO', 'HealthTech', 'Ireland', 32, '+44 20 7946 0214', false, ['job_posting']],
  [15, 'Pulsewright', 'pulsewright', 'Head of Growth', 'HealthTech', 'Germany', 150, null, true, []],
  [16, 'Orvale Health', 'orvale-health', 'COO', 'HealthTech', 'France', 950, '+44 20 7946 0216', true, ['leadership_change']],
  [17, 'Carebridge Remote', 'carebridge-remote', 'CTO', 'HealthTech', 'US', 12, '+1 202 555 0117', true, ['funding_round', 'job_posting']],
  [18, 'Thistle Health Data', 'thistle-health-data', 'VP Sales', 'HealthTech', 'UK', 75, '+44 20 7946 0218', true, ['new_product_launch']],
  [19, 'Oakhollow Goods', 'oakhollow-goods', 'Head of Ecommerce', 'Retail', 'UK', 260, '+44 121 496 0219', true, ['job_posting']],
  [20, 'Marram & Pine', 'marram-and-pine', 'Marketing Director', 'Retail', 'Ireland', 40, null, false, []],
  [21, 'Kaufhaus Nord Digital', 'kaufhaus-nord-digital', 'CTO', 'Retail', 'Germany', 1800, '+44 20 7946 0221', true, ['leadership_change', 'office_expansion']],
  [22, 'Maison Berline', 'maison-berline', 'Head of Growth', 'Retail', 'France', 95, '+44 20 7946 0222', true, ['job_posting']],
  [23, 'Driftwood Outfitters', 'driftwood-outfitters', 'VP Sales', 'Retail', 'US', 620, '+1 202 555 0123', true, ['funding_round']],
  [24, 'Cobble Lane Grocers', 'cobble-lane-grocers', 'CEO', 'Retail', 'UK', 8, '+44 161 496 0224', false, []],
  [25, 'Tideway Freight', 'tideway-freight', 'Head of Operations', 'Logistics', 'UK', 880, '+44 20 7946 0225', true, ['job_posting', 'office_expansion']],
  [26, 'Liffeyside Logistics', 'liffeyside-logistics', 'COO', 'Logistics', 'Ireland', 140, '+44 20 7946 0226', true, ['leadership_change']],
  [27, 'Rheinkurier', 'rheinkurier', 'CEO', 'Logistics', 'Germany', 55, null, true, ['funding_round']],
  [28, 'Transports Lavande', 'transports-lavande', 'Head of Procurement', 'Logistics', 'France', 1200, '+44 20 7946 0228', false, []],
  [29, 'Prairie Dispatch', 'prairie-dispatch', 'VP Sales', 'Logistics', 'US', 300, '+1 202 555 0129', true, ['job_posting', 'funding_round', 'leadership_change']],
  [30, 'Northgate Haulage', 'northgate-haulage', 'Head of Operations', 'Logistics', 'UK', 1050, null, true, ['office_expansion']],
];

/** 30 fictional companies: SaaS, FinTech, HealthTech, Retail and Logistics across the UK, Ireland, Germany, France and the US. */
export const COMPANY_DIRECTORY: readonly Lead[] = Object.freeze(
  DIRECTORY_ROWS.map(
    ([id, company, slug, role, industry, location, employees, phone, hasEmail, signals]): Lead => ({
      lead_id: `co-${String(id).padStart(3, '0')}`,
      company,
      url: `https://${slug}.example.com`,
      role,
      industry,
      location,
      employee_count: employees,
      phone,
      email: hasEmail ? `hello@${slug}.example.com` : null,
      signals,
    }),
  ),
);

const DEFAULT_COMPANIES_TO_FIND = 50;

/** Weights of note 004's formula. Each component is 0..1, so the weighted sum is already on the 0..5 scale: no further normalising. */
export const QUALITY_WEIGHTS = Object.freeze({
  criteria_match: 2,
  data_completeness: 1,
  enrichment_quality: 1,
  buying_signals: 1,
} as const);

const TECH_STACK_CHOICES = [
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
] as const;
const MAX_TECH_STACK = 4;
const MIN_GROWTH_PCT = -10;
const MAX_GROWTH_PCT = 60;
/** Two signals are enough to call a company fully in-market. */
const SIGNALS_FOR_FULL_SCORE = 2;

/** Rounds half up to 2 decimals, ignoring binary noise (so 0.285 → 0.29, not 0.28). */
function round2(value: number): number {
  return Math.round(Number((value * 100).toPrecision(12))) / 100;
}

/** FNV-1a, then murmur3's finaliser so that small moduli of the hash are evenly spread. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Goal criteria come from people and forms: match names regardless of case and stray spaces. */
function normalise(text: string): string {
  return text.trim().toLowerCase();
}

/** The criteria actually given, each as a test; an empty list or a range with no bounds constrains nothing. */
function criterionTests(criteria: GoalCriteria | undefined): ((lead: Lead) => boolean)[] {
  const tests: ((lead: Lead) => boolean)[] = [];
  if (!criteria) return tests;
  const listTest = (list: string[] | undefined, field: (lead: Lead) => string) => {
    if (!list || list.length === 0) return;
    const wanted = new Set(list.map(normalise));
    tests.push((lead) => wanted.has(normalise(field(lead))));
  };
  listTest(criteria.industry, (lead) => lead.industry);
  listTest(criteria.location, (lead) => lead.location);
  const { min, max } = criteria.employee_count ?? {};
  if (min !== undefined || max !== undefined) {
    tests.push(
      (lead) =>
        (min === undefined || lead.employee_count >= min) &&
        (max === undefined || lead.employee_count <= max),
    );
  }
  return tests;
}

/**
 * Discovery: the directory's companies meeting every given criterion (an
 * empty list or a range with no bounds constrains nothing), the first
 * `companies_to_find` (default 50) of them in directory order as leads.
 * `min_quality_score` is not used here: it applies after scoring.
 */
export function discoverLeads(input: DiscoverInput): {
  companies_found: number;
  items_created: number;
  leads: Lead[];
} {
  const limit = input.target_metrics?.companies_to_find ?? DEFAULT_COMPANIES_TO_FIND;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`companies_to_find must be a non-negative integer, got ${limit}`);
  }
  const tests = criterionTests(input.goal_criteria);
  const matches = COMPANY_DIRECTORY.filter((lead) => tests.every((test) => test(lead)));
  // Copies, so a caller editing its leads cannot change the directory.
  const leads = matches.slice(0, limit).map((lead) => ({ ...lead, signals: [...lead.signals] }));
  return { companies_found: matches.length, items_created: leads.length, leads };
}

/**
 * Enrichment, simulated: derived from a hash of the lead_id, so a lead always
 * gets the same tech stack (0–4 items), employee growth (-10..60 %), social
 * presence (0..1) and, for UK companies only, a Companies House number.
 */
export function enrichLead(lead: Lead): EnrichedLead {
  const techHash = hash(`${lead.lead_id}:tech`);
  const techCount = techHash % (MAX_TECH_STACK + 1);
  const techStart = Math.floor(techHash / (MAX_TECH_STACK + 1)) % TECH_STACK_CHOICES.length;
  const tech_stack = Array.from(
    { length: techCount },
    (_, i) => TECH_STACK_CHOICES[(techStart + i) % TECH_STACK_CHOICES.length] as string,
  );
  const employee_growth_pct =
    MIN_GROWTH_PCT + (hash(`${lead.lead_id}:growth`) % (MAX_GROWTH_PCT - MIN_GROWTH_PCT + 1));
  const social_presence_score = (hash(`${lead.lead_id}:social`) % 101) / 100;
  const companies_house_number =
    normalise(lead.location) === 'uk'
      ? String(hash(`${lead.lead_id}:companies-house`) % 100_000_000).padStart(8, '0')
      : null;
  return {
    ...lead,
    signals: [...lead.signals],
    enrichment: { tech_stack, employee_growth_pct, social_presence_score, companies_house_number },
  };
}

function isPresent(value: string | number | null | undefined): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && value.trim().length > 0;
}

/**
 * Scoring, by note 004's formula: quality = criteria_match × 2 +
 * data_completeness + enrichment_quality + buying_signals. Each component is
 * 0..1, so the sum is already on the note's 0..5 scale. Components and the
 * score are rounded half up to 2 decimals, the score from the unrounded
 * components; priority follows the rounded score, so it agrees with what is shown.
 */
export function scoreLead(lead: EnrichedLead, criteria?: GoalCriteria): LeadScore {
  const tests = criterionTests(criteria);
  const criteria_match =
    tests.length === 0 ? 1 : tests.filter((test) => test(lead)).length / tests.length;

  const fields = [
    lead.company,
    lead.url,
    lead.role,
    lead.industry,
    lead.location,
    lead.employee_count,
    lead.phone,
    lead.email,
  ];
  const data_completeness = fields.filter(isPresent).length / fields.length;

  const { tech_stack, employee_growth_pct, social_presence_score } = lead.enrichment;
  const enrichment_quality =
    ((tech_stack.length > 0 ? 1 : 0) +
      (employee_growth_pct > 0 ? 1 : 0) +
      Math.min(1, Math.max(0, social_presence_score))) /
    3;

  // Distinct signals, so a repeated job posting does not count twice.
  const buying_signals = Math.min(1, new Set(lead.signals).size / SIGNALS_FOR_FULL_SCORE);

  const quality_score = round2(
    criteria_match * QUALITY_WEIGHTS.criteria_match +
      data_completeness * QUALITY_WEIGHTS.data_completeness +
      enrichment_quality * QUALITY_WEIGHTS.enrichment_quality +
      buying_signals * QUALITY_WEIGHTS.buying_signals,
  );
  return {
    lead_id: lead.lead_id,
    quality_score,
    priority: priorityFor(quality_score),
    components: {
      criteria_match: round2(criteria_match),
      data_completeness: round2(data_completeness),
      enrichment_quality: round2(enrichment_quality),
      buying_signals: round2(buying_signals),
    },
  };
}

/** critical ≥ 4.5, high ≥ 4.0, medium ≥ 3.0, otherwise low. */
export function priorityFor(qualityScore: number): LeadScore['priority'] {
  if (qualityScore >= 4.5) return 'critical';
  if (qualityScore >= 4) return 'high';
  if (qualityScore >= 3) return 'medium';
  return 'low';
}
