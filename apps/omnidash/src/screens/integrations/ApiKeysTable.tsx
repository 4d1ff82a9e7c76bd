import { RelativeTime, useNow } from '../../components/RelativeTime.tsx';
import { formatCount } from '../../components/format.ts';
import { apiKeyState, type ApiKey } from '../../data/api-keys/api-keys-query.ts';

const STATE_LABEL = { active: 'active', revoked: 'revoked', expired: 'expired' } as const;

/**
 * An integration's keys, revoked ones included (marked, with when). Revoke
 * sits with the status, so it is in view on a phone without scrolling sideways.
 */
export function ApiKeysTable({
  keys,
  caption,
  canRevoke,
  disabledReasonId,
  disabledReason,
  onRevoke,
}: {
  keys: ApiKey[];
  caption: string;
  canRevoke: boolean;
  /** The id of the text that says why revoking is disabled. */
  disabledReasonId: string;
  disabledReason: string;
  onRevoke: (key: ApiKey) => void;
}) {
  const now = useNow(30_000);
  return (
    <div className="table-wrap">
      <table className="keys-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Key ID</th>
            <th scope="col">Status</th>
            <th scope="col">Scopes</th>
            <th scope="col">Name</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col" className="num">
              Max/min
            </th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => {
            const state = apiKeyState(key, now);
            return (
              <tr key={key.id} className={state === 'active' ? undefined : 'key-inactive'}>
                <th scope="row" className="mono">
                  {key.key_id}
                </th>
                <td>
                  <span className={`status key-state-${state}`} data-state={state}>
                    {STATE_LABEL[state]}
                  </span>
                  {state === 'revoked' ? (
                    <span className="key-state-when">
                      <RelativeTime iso={key.revoked_at} />
                    </span>
                  ) : (
                    <button
                      className="btn btn-small key-revoke"
                      type="button"
                      aria-label={`Revoke key ${key.key_id}`}
                      disabled={!canRevoke}
                      title={canRevoke ? undefined : disabledReason}
                      aria-describedby={canRevoke ? undefined : disabledReasonId}
                      onClick={() => onRevoke(key)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
                <td>
                  <ul className="scope-list" aria-label={`Scopes of ${key.key_id}`}>
                    {key.scopes.map((scope) => (
                      <li key={scope} className="badge mono">
                        {scope}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{key.name ?? <span className="muted">—</span>}</td>
                <td>
                  {key.last_used_at ? (
                    <RelativeTime iso={key.last_used_at} />
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
                <td>
                  {key.expires_at ? (
                    <RelativeTime iso={key.expires_at} />
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
                <td className="num">
                  {key.max_rpm === null ? (
                    <span className="muted">no limit</span>
                  ) : (
                    formatCount(key.max_rpm)
                  )}
                </td>
                <td>
                  <RelativeTime iso={key.created_at} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
