-- Demo data for local development (`pnpm dev`, or `supabase db reset`):
-- the "demo" tenant with the two agent integrations from the product notes.
-- API keys are not seeded here: a key's secret must never sit in a file that
-- is committed. `pnpm dev` issues the demo keys and prints them.

select omnilink.ensure_tenant('demo', 'Demo');

select omnilink.ensure_integration(t.id, s.source, s.name)
from public.tenants t
cross join (values ('lead-gen', 'Lead-Gen'), ('apex-sales', 'APEX-Sales')) as s (source, name)
where t.slug = 'demo';
