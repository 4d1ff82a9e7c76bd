// @vitest-environment happy-dom
import type { SupabaseClient } from '@supabase/supabase-js';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CreatedApiKey } from '../../data/api-keys/api-keys-create-mutation.ts';
import { BackendProvider } from '../../supabase-context.tsx';
import { IntegrationCard } from './IntegrationCard.tsx';
import { SHOWN_ONCE_WARNING } from './NewKeyPanel.tsx';

afterEach(cleanup);

const TENANT = '00000000-0000-4000-8000-000000000001';
const INTEGRATION = {
  id: '00000000-0000-4000-8000-000000000002',
  tenant_id: TENANT,
  source: 'crm-sync',
  name: 'CRM sync',
  created_at: new Date().toISOString(),
};
const SECRET = 'Zk3sX9secretsecretsecretsecretsecret0123456';
const CREATED: CreatedApiKey = {
  id: '00000000-0000-4000-8000-000000000003',
  tenant_id: TENANT,
  integration_id: INTEGRATION.id,
  source: 'crm-sync',
  key_id: 'abcd1234efgh',
  name: null,
  scopes: ['events:write'],
  max_rpm: null,
  expires_at: null,
  revoked_at: null,
  last_used_at: null,
  created_at: new Date().toISOString(),
  api_key: `omni.abcd1234efgh.${SECRET}`,
};

let rpc: ReturnType<typeof vi.fn>;
let queryClient: QueryClient;

beforeEach(() => {
  rpc = vi.fn(async () => ({ data: CREATED, error: null, status: 200 }));
  queryClient = new QueryClient();
  localStorage.clear();
});

function renderCard(canManage = true) {
  render(
    <BackendProvider
      backend={{ supabase: { rpc } as unknown as SupabaseClient, portUrl: 'http://port' }}
    >
      <QueryClientProvider client={queryClient}>
        <IntegrationCard
          tenantId={TENANT}
          integration={INTEGRATION}
          keys={[]}
          canManage={canManage}
          disabledReason="Needs the admin role in this tenant."
          disabledReasonId="why"
          onRevoke={() => {}}
        />
      </QueryClientProvider>
    </BackendProvider>,
  );
}

async function createKey() {
  fireEvent.click(screen.getByRole('button', { name: 'New API key for crm-sync' }));
  fireEvent.click(screen.getByRole('checkbox', { name: /events:write/ }));
  fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
  return (await screen.findByLabelText('API key')) as HTMLTextAreaElement;
}

/** Everything TanStack Query holds, as text. */
function cachedText(): string {
  return JSON.stringify([
    queryClient
      .getQueryCache()
      .getAll()
      .map((query) => query.state.data),
    queryClient
      .getMutationCache()
      .getAll()
      .map((mutation) => mutation.state),
  ]);
}

describe('a new API key', () => {
  it('is shown once with the warning, copies, and is gone from page and caches when closed', async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    renderCard();
    const field = await createKey();

    expect(rpc).toHaveBeenCalledWith('create_api_key', {
      p_integration_id: INTEGRATION.id,
      p_scopes: ['events:write'],
      p_max_rpm: null,
      p_expires_at: null,
      p_name: null,
    });
    expect(field.value).toBe(CREATED.api_key);
    expect(field.readOnly).toBe(true);
    screen.getByText(SHOWN_ONCE_WARNING);

    fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    await waitFor(() =>
      expect(screen.getAllByRole('status').map((node) => node.textContent)).toContain('Copied'),
    );
    expect(writeText).toHaveBeenCalledWith(CREATED.api_key);

    fireEvent.click(screen.getByRole('button', { name: 'Done — hide the key' }));
    await waitFor(() => expect(screen.queryByLabelText('API key')).toBeNull());
    expect(document.body.innerHTML).not.toContain(SECRET);
    // The mutation that held it leaves the cache (gcTime 0), and nothing else ever had it.
    await waitFor(() => expect(queryClient.getMutationCache().getAll()).toHaveLength(0));
    expect(cachedText()).not.toContain(SECRET);
    expect(JSON.stringify({ ...localStorage })).not.toContain(SECRET);
    expect(document.activeElement).toBe(
      screen.getByRole('button', { name: 'New API key for crm-sync' }),
    );
  });

  it('says so when copying fails, and leaves the key selected to copy by hand', async () => {
    Object.defineProperty(navigator, 'clipboard', {
      value: { writeText: async () => Promise.reject(new Error('denied')) },
      configurable: true,
    });
    renderCard();
    const field = await createKey();
    fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /^Could not copy to the clipboard/,
    );
    expect(document.activeElement).toBe(field);
  });

  it('needs a scope before anything is sent', async () => {
    renderCard();
    fireEvent.click(screen.getByRole('button', { name: 'New API key for crm-sync' }));
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    screen.getByText('Choose at least one scope.');
    expect(rpc).not.toHaveBeenCalled();
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('checkbox', { name: /events:write/ })),
    );
  });

  it('is not offered to someone who may not manage integrations', () => {
    renderCard(false);
    const button = screen.getByRole('button', { name: 'New API key for crm-sync' });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    expect(button.title).toBe('Needs the admin role in this tenant.');
  });
});
