import type { EnvelopeRecord, Provenance, ResultEnvelope } from '@omnihub/contracts';
import { Link } from 'react-router';
import { formatDateTime } from '../../components/format.ts';
import { compactValue, recordColumns } from './envelope-format.ts';
import { shortId } from './task-format.ts';

/**
 * A result envelope (note 001) as people read it: what run produced it and
 * its counts, then its records as a table, one column per field and one
 * for where each record came from.
 */
export function EnvelopeView({ envelope, label }: { envelope: ResultEnvelope; label: string }) {
  const { metadata, records } = envelope;
  const columns = recordColumns(records);
  return (
    <div className="envelope">
      <dl className="details envelope-metadata" aria-label={`${label}: metadata`}>
        <dt>Run</dt>
        <dd className="mono">{metadata.run_id}</dd>
        <dt>Agent</dt>
        <dd>
          {metadata.agent} · {metadata.action}
        </dd>
        <dt>Generated</dt>
        <dd>
          <time dateTime={metadata.generated_at}>{formatDateTime(metadata.generated_at)}</time>
        </dd>
        {Object.entries(metadata.summary ?? {}).map(([key, value]) => (
          <SummaryEntry key={key} name={key} value={value} />
        ))}
      </dl>
      {records.length === 0 ? (
        <p className="muted">No records.</p>
      ) : (
        <div className="table-wrap">
          <table className="envelope-records" aria-label={`${label}: records`}>
            <thead>
              <tr>
                {columns.map((column) => (
                  <th scope="col" key={column}>
                    {column}
                  </th>
                ))}
                <th scope="col">provenance</th>
              </tr>
            </thead>
            <tbody>
              {records.map((record, index) => (
                <RecordRow key={index} record={record} columns={columns} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function SummaryEntry({ name, value }: { name: string; value: number | string }) {
  return (
    <>
      <dt>{name.replaceAll('_', ' ')}</dt>
      <dd className={typeof value === 'number' ? 'num' : undefined}>{value}</dd>
    </>
  );
}

function RecordRow({ record, columns }: { record: EnvelopeRecord; columns: string[] }) {
  return (
    <tr>
      {columns.map((column) => {
        const value = (record as Record<string, unknown>)[column];
        return (
          <td key={column} className={cellClass(value)}>
            {compactValue(value)}
          </td>
        );
      })}
      <td className="envelope-provenance">
        <ProvenanceCell provenance={record.provenance} />
      </td>
    </tr>
  );
}

/** Numbers right-aligned; plain values on one line; lists and objects wrap at their commas. */
function cellClass(value: unknown): string {
  if (typeof value === 'number') return 'num envelope-plain';
  return value !== null && typeof value === 'object' ? 'envelope-nested' : 'envelope-plain';
}

function ProvenanceCell({ provenance }: { provenance: Provenance }) {
  return (
    <>
      <span className="envelope-source">{provenance.source}</span>
      {provenance.method && <span className="muted"> ({provenance.method})</span>}
      <br />
      <time dateTime={provenance.retrieved_at}>{formatDateTime(provenance.retrieved_at)}</time>
      {provenance.url && (
        <>
          {' · '}
          <a href={provenance.url} target="_blank" rel="noreferrer noopener">
            {provenance.url}
          </a>
        </>
      )}
      {provenance.task_id && (
        <>
          {' · task '}
          <Link to={`/omnidash/tasks/${provenance.task_id}`} className="mono">
            {shortId(provenance.task_id)}
          </Link>
        </>
      )}
    </>
  );
}
