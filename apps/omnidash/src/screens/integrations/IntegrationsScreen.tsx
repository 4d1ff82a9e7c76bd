import { useState } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { QueryState } from '../../components/QueryState.tsx';
import { usePageTitle } from '../../components/use-page-title.ts';
import {
  API_KEYS_LIMIT,
  useApiKeysQuery,
  type ApiKey,
} from '../../data/api-keys/api-keys-query.ts';
import { useRevokeApiKeyMutation } from '../../data/api-keys/api-keys-revoke-mutation.ts';
import { errorMessage } from '../../data/errors.ts';
import { useIntegrationsQuery } from '../../data/integrations/integrations-query.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { IntegrationCard } from './IntegrationCard.tsx';
import { NewIntegrationForm } from './NewIntegrationForm.tsx';
import './integrations.css';

const WHY_DISABLED_ID = 'integrations-needs-admin';

/**
 * The tenant's integrations (one per agent source) and their API keys.
 * Everyone sees them; admins create integrations and keys and revoke keys.
 */
export function IntegrationsScreen() {
  usePageTitle('Integrations');
  const tenant = useTenant();
  const canManage = tenant.can('manageIntegrations');
  const disabledReason = needsRole('manageIntegrations');
  const integrations = useIntegrationsQuery(tenant.tenantId);
  const apiKeys = useApiKeysQuery(tenant.tenantId);
  const revoke = useRevokeApiKeyMutation(tenant.tenantId);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [announcement, setAnnouncement] = useState('');

  function confirmRevoke() {
    if (!revoking) return;
    const keyId = revoking.key_id;
    revoke.mutate(keyId, {
      onSuccess: () => {
        setRevoking(null);
        setAnnouncement(`Key ${keyId} revoked: the port refuses it from its next request.`);
      },
    });
  }

  return (
    <section className="screen">
      <div className="screen-header">
        <h1>Integrations</h1>
      </div>
      <p className="muted screen-intro">
        Each integration is an agent source. Its API keys let agents talk to the OmniLink Port as
        that source.
      </p>
      {!canManage && (
        <p className="notice" id={WHY_DISABLED_ID}>
          You can see integrations and keys. Creating and revoking them needs the admin role in this
          tenant; you are {tenant.role}.
        </p>
      )}
      <p className="visually-hidden" role="status">
        {announcement}
      </p>

      <QueryState
        query={integrations}
        label="integrations"
        isEmpty={(list) => list.length === 0}
        empty={
          <>
            No integrations yet. {canManage ? 'Create one below' : 'An admin creates one'} for each
            agent source, such as <span className="mono">lead-gen</span>.
          </>
        }
      >
        {(list) => (
          <QueryState query={apiKeys} label="API keys">
            {({ keys, total }) => (
              <>
                {total > keys.length && (
                  <p className="notice">
                    Showing the newest {API_KEYS_LIMIT} of {total} keys.
                  </p>
                )}
                {list.map((integration) => (
                  <IntegrationCard
                    key={integration.id}
                    tenantId={tenant.tenantId}
                    integration={integration}
                    keys={keys.filter((key) => key.integration_id === integration.id)}
                    canManage={canManage}
                    disabledReason={disabledReason}
                    disabledReasonId={WHY_DISABLED_ID}
                    onRevoke={(key) => {
                      revoke.reset();
                      setRevoking(key);
                    }}
                  />
                ))}
              </>
            )}
          </QueryState>
        )}
      </QueryState>

      <NewIntegrationForm
        tenantId={tenant.tenantId}
        canManage={canManage}
        disabledReason={disabledReason}
      />

      <ConfirmDialog
        open={revoking !== null}
        title={revoking ? `Revoke key ${revoking.key_id}?` : 'Revoke key?'}
        confirmLabel="Revoke key"
        danger
        pending={revoke.isPending}
        onConfirm={confirmRevoke}
        onCancel={() => setRevoking(null)}
      >
        {revoking && (
          <>
            <p>
              Agents using key <span className="mono">{revoking.key_id}</span>
              {revoking.name ? ` (${revoking.name})` : ''} get 401 unauthorized from their next
              request. This cannot be undone; the key stays listed as revoked.
            </p>
            {revoke.isError && (
              <p className="form-error" role="alert">
                The key was not revoked: {errorMessage(revoke.error)}
              </p>
            )}
          </>
        )}
      </ConfirmDialog>
    </section>
  );
}
