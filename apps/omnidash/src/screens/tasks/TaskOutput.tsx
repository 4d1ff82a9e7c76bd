import { MAX_JSON_FIELD_BYTES } from '@omnihub/contracts';
import { useMemo, useState } from 'react';
import { JsonView } from '../../components/JsonView.tsx';
import type { TaskRow } from '../../data/tasks/types.ts';
import { asEnvelope } from './envelope-format.ts';
import { EnvelopeView } from './EnvelopeView.tsx';

/**
 * A task's output: a result envelope as its records table (with a toggle
 * to the JSON), any other output as pretty JSON, or, when the worker's
 * result was over the limit and stored cut, a notice and the start of the
 * serialized JSON.
 */
export function TaskOutput({
  task,
  label,
}: {
  task: Pick<TaskRow, 'output' | 'output_truncated' | 'status'>;
  label: string;
}) {
  if (task.output_truncated) {
    const preview = (task.output as { preview?: unknown } | null)?.preview;
    return (
      <>
        <p className="notice" role="note">
          The output was larger than {MAX_JSON_FIELD_BYTES / 1024} KiB, so only its first{' '}
          {MAX_JSON_FIELD_BYTES / 1024} KiB are kept: below is the start of the JSON, cut off.
        </p>
        <pre className="json" aria-label={label} tabIndex={0}>
          {typeof preview === 'string' ? preview : JSON.stringify(task.output, null, 2)}
        </pre>
      </>
    );
  }
  if (task.output === null || task.output === undefined) {
    return (
      <p className="muted">
        {task.status === 'succeeded' ? 'The task returned no output.' : 'No output yet.'}
      </p>
    );
  }
  return <ParsedOutput output={task.output} label={label} />;
}

function ParsedOutput({ output, label }: { output: unknown; label: string }) {
  const envelope = useMemo(() => asEnvelope(output), [output]);
  const [raw, setRaw] = useState(false);
  if (!envelope) return <JsonView value={output} label={label} />;
  return (
    <>
      <div className="actions envelope-toggle">
        <button
          type="button"
          className="btn btn-small"
          aria-pressed={raw}
          onClick={() => setRaw((shown) => !shown)}
        >
          Raw JSON
        </button>
      </div>
      {raw ? (
        <JsonView value={output} label={label} />
      ) : (
        <EnvelopeView envelope={envelope} label={label} />
      )}
    </>
  );
}
