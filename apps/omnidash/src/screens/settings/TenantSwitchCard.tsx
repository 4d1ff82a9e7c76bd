import { useId, useState } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { QueryState } from '../../components/QueryState.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { formatDateTime } from '../../components/format.ts';
import { errorMessage } from '../../data/errors.ts';
import type { PortHealth } from '../../data/health/port-health-query.ts';
import { useTenantSettingsQuery, type TenantSettings } from '../../data/settings/settings-query.ts';
import { useSetOmniLinkEnabledMutation } from '../../data/settings/settings-update-mutation.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';

/** The tenant's OmniLink switch: admins flip it; everyone sees it and who changed it last. */
export function TenantSwitchCard({
  userId,
  deployment,
}: {
  userId: string;
  /** The deployment-wide switch, to say when it overrides this one. */
  deployment: PortHealth | undefined;
}) {
  const id = useId();
  const tenant = useTenant();
  const settings = useTenantSettingsQuery(tenant.tenantId);
  const setEnabled = useSetOmniLinkEnabledMutation(tenant.tenantId);
  const [confirmingOff, setConfirmingOff] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const canSwitch = tenant.can('switchOmniLink');

  function change(enabled: boolean) {
    setAnnouncement('');
    setEnabled.mutate(enabled, {
      onSuccess: () => {
        setConfirmingOff(false);
        setAnnouncement(
          enabled
            ? `OmniLink is on for ${tenant.name}: the port accepts its keys again from their next request.`
            : `OmniLink is off for ${tenant.name}: the port refuses its keys from their next request.`,
        );
      },
    });
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>OmniLink for {tenant.name}</h2>
      <p className="muted">
        When it is off, the port answers every request made with this tenant's API keys with 503{' '}
        <code>omnilink_disabled</code> and stores nothing. A change takes effect on the port's next
        request. Agents retry refused requests for a while, then stop and report that OmniLink is
        switched off.
      </p>
      <QueryState query={settings} label="the tenant's settings">
        {(current: TenantSettings) => (
          <>
            <div className="switch-row">
              <button
                className="switch"
                type="button"
                role="switch"
                aria-checked={current.omnilink_enabled}
                aria-labelledby={`${id}-label`}
                aria-describedby={canSwitch ? undefined : `${id}-why`}
                title={canSwitch ? undefined : needsRole('switchOmniLink')}
                disabled={!canSwitch || setEnabled.isPending}
                onClick={() => (current.omnilink_enabled ? setConfirmingOff(true) : change(true))}
              >
                <span className="switch-track" aria-hidden="true">
                  <span className="switch-thumb" />
                </span>
              </button>
              <span id={`${id}-label`} className="switch-label">
                OmniLink for this tenant
              </span>
              <strong
                className={current.omnilink_enabled ? 'switch-state-on' : 'switch-state-off'}
                aria-hidden="true"
              >
                {current.omnilink_enabled ? 'On' : 'Off'}
              </strong>
            </div>
            {!canSwitch && (
              <p className="field-hint" id={`${id}-why`}>
                {needsRole('switchOmniLink')} You can see the switch but not flip it.
              </p>
            )}
            <p className="switch-changed">
              {current.updated_by ? (
                <>
                  Last changed <RelativeTime iso={current.updated_at} /> by{' '}
                  {changer(current, userId)}{' '}
                  <span className="muted">({formatDateTime(current.updated_at)})</span>.
                </>
              ) : (
                <span className="muted">Not changed since the tenant was created.</span>
              )}
            </p>
            {!current.omnilink_enabled && (
              <p className="notice notice-danger">
                Off: agents using {tenant.name}'s keys get 503 <code>omnilink_disabled</code>.
              </p>
            )}
            {deployment?.state === 'off' && current.omnilink_enabled && (
              <p className="notice">
                The deployment-wide switch is off, so the port refuses this tenant's keys anyway.
              </p>
            )}
          </>
        )}
      </QueryState>
      {setEnabled.isError && !confirmingOff && (
        <p className="form-error" role="alert">
          The switch did not change: {errorMessage(setEnabled.error)}
        </p>
      )}
      <p className="visually-hidden" role="status">
        {announcement}
      </p>
      <ConfirmDialog
        open={confirmingOff}
        title={`Switch OmniLink off for ${tenant.name}?`}
        confirmLabel="Switch off"
        danger
        pending={setEnabled.isPending}
        onConfirm={() => change(false)}
        onCancel={() => {
          setConfirmingOff(false);
          setEnabled.reset();
        }}
      >
        <p>
          From the port's next request, every agent using {tenant.name}'s API keys gets 503{' '}
          <code>omnilink_disabled</code> until an admin switches OmniLink back on. Events and task
          updates they send meanwhile are not stored.
        </p>
        {setEnabled.isError && (
          <p className="form-error" role="alert">
            The switch did not change: {errorMessage(setEnabled.error)}
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

function changer(settings: TenantSettings, userId: string): string {
  if (settings.updated_by === userId) return 'you';
  if (settings.updated_by_role) return `another ${settings.updated_by_role} of this tenant`;
  return 'someone who is no longer a member';
}
