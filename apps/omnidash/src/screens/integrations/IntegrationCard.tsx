import { useEffect, useId, useRef, useState } from 'react';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { useCreateApiKeyMutation } from '../../data/api-keys/api-keys-create-mutation.ts';
import type { ApiKey } from '../../data/api-keys/api-keys-query.ts';
import type { Integration } from '../../data/integrations/integrations-query.ts';
import { ApiKeysTable } from './ApiKeysTable.tsx';
import { NewApiKeyForm } from './NewApiKeyForm.tsx';
import { NewKeyPanel } from './NewKeyPanel.tsx';

/** One integration: its source, its keys, and (for admins) a new key, shown once. */
export function IntegrationCard({
  tenantId,
  integration,
  keys,
  canManage,
  disabledReason,
  disabledReasonId,
  onRevoke,
}: {
  tenantId: string;
  integration: Integration;
  keys: ApiKey[];
  canManage: boolean;
  disabledReason: string;
  disabledReasonId: string;
  onRevoke: (key: ApiKey) => void;
}) {
  const id = useId();
  const newKeyButton = useRef<HTMLButtonElement>(null);
  const createKey = useCreateApiKeyMutation(tenantId);
  const [formOpen, setFormOpen] = useState(false);
  // Focus returns to "New API key" once it is enabled again (after the panel or form closes).
  const [refocus, setRefocus] = useState(false);
  const showingKey = createKey.data !== undefined;

  useEffect(() => {
    if (refocus && !formOpen && !showingKey) {
      newKeyButton.current?.focus();
      setRefocus(false);
    }
  }, [refocus, formOpen, showingKey]);

  function closePanel() {
    // Drops the only copy of the secret: the mutation leaves the cache (gcTime 0).
    createKey.reset();
    setRefocus(true);
  }

  const active = keys.filter((key) => !key.revoked_at).length;

  return (
    <section className="card integration" aria-labelledby={`${id}-title`}>
      <div className="card-header">
        <div>
          <h2 id={`${id}-title`}>{integration.name}</h2>
          <p className="integration-meta muted">
            Source <span className="badge mono">{integration.source}</span> · created{' '}
            <RelativeTime iso={integration.created_at} /> · {active} active{' '}
            {active === 1 ? 'key' : 'keys'}
          </p>
        </div>
        <button
          ref={newKeyButton}
          className="btn"
          type="button"
          aria-label={`New API key for ${integration.source}`}
          aria-expanded={formOpen}
          disabled={!canManage || formOpen || showingKey}
          title={canManage ? undefined : disabledReason}
          aria-describedby={canManage ? undefined : disabledReasonId}
          onClick={() => {
            createKey.reset();
            setFormOpen(true);
          }}
        >
          New API key
        </button>
      </div>

      {createKey.data ? (
        <NewKeyPanel created={createKey.data} onClose={closePanel} />
      ) : (
        formOpen && (
          <NewApiKeyForm
            integrationId={integration.id}
            source={integration.source}
            pending={createKey.isPending}
            error={createKey.error}
            onSubmit={(input) => createKey.mutate(input, { onSuccess: () => setFormOpen(false) })}
            onCancel={() => {
              setFormOpen(false);
              createKey.reset();
              setRefocus(true);
            }}
          />
        )
      )}

      {keys.length === 0 ? (
        <p className="state state-empty">
          No API keys yet. {canManage ? 'Create one for each agent or machine.' : ''}
        </p>
      ) : (
        <ApiKeysTable
          keys={keys}
          caption={`API keys of ${integration.name} (${integration.source})`}
          canRevoke={canManage}
          disabledReason={disabledReason}
          disabledReasonId={disabledReasonId}
          onRevoke={onRevoke}
        />
      )}
    </section>
  );
}
