import { useEffect, useId, useRef, useState } from 'react';
import { formatDateTime } from '../../components/format.ts';
import type { CreatedApiKey } from '../../data/api-keys/api-keys-create-mutation.ts';

export const SHOWN_ONCE_WARNING =
  'This key will not be shown again. Copy it now and store it somewhere safe.';

type CopyState = 'idle' | 'copied' | 'failed';

/**
 * The one time a key's secret is on screen. It lives only in the create
 * mutation that returned it: `onClose` resets that mutation, and nothing
 * else (query cache, storage) ever holds it.
 */
export function NewKeyPanel({ created, onClose }: { created: CreatedApiKey; onClose: () => void }) {
  const id = useId();
  const field = useRef<HTMLTextAreaElement>(null);
  const [copy, setCopy] = useState<CopyState>('idle');

  // Focus lands on the key, selected, so it can be copied at once by keyboard too.
  useEffect(() => {
    field.current?.focus();
    field.current?.select();
  }, []);

  async function copyKey() {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(created.api_key);
      setCopy('copied');
    } catch {
      setCopy('failed');
      field.current?.focus();
      field.current?.select();
    }
  }

  return (
    <section className="key-once" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        New key <span className="mono">{created.key_id}</span>
      </h3>
      <p className="notice notice-danger key-once-warning" id={`${id}-warning`}>
        <strong>{SHOWN_ONCE_WARNING}</strong>
      </p>
      <div className="field">
        <label htmlFor={`${id}-key`}>API key</label>
        {/* A text area, so the whole key is in view, wrapped, even on a phone. */}
        <div className="key-once-row">
          <textarea
            ref={field}
            id={`${id}-key`}
            className="mono key-once-value"
            rows={3}
            readOnly
            value={created.api_key}
            spellCheck={false}
            autoComplete="off"
            aria-describedby={`${id}-warning ${id}-usage`}
            onFocus={(event) => event.currentTarget.select()}
          />
          <button className="btn btn-primary" type="button" onClick={() => void copyKey()}>
            Copy
          </button>
        </div>
        <p className="form-success key-once-status" role="status">
          {copy === 'copied' ? 'Copied' : ''}
        </p>
        {copy === 'failed' && (
          <p className="field-error" role="alert">
            Could not copy to the clipboard. The key is selected: copy it with Ctrl+C (⌘C on a Mac).
          </p>
        )}
      </div>
      <p className="field-hint" id={`${id}-usage`}>
        Agents send it as <code>Authorization: Bearer …</code> (<code>OMNIHUB_API_KEY</code> in
        their <code>.env</code>). It acts as <span className="mono">{created.source}</span> with{' '}
        {created.scopes.join(', ')}
        {created.max_rpm ? `, up to ${created.max_rpm} requests a minute` : ''}
        {created.expires_at ? `, until ${formatDateTime(created.expires_at)}` : ', with no expiry'}.
      </p>
      <button className="btn" type="button" onClick={onClose}>
        Done — hide the key
      </button>
    </section>
  );
}
