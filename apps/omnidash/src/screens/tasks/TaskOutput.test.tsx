// @vitest-environment happy-dom
import type { ResultEnvelope } from '@omnihub/contracts';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskRow } from '../../data/tasks/types.ts';
import { TaskOutput } from './TaskOutput.tsx';

afterEach(cleanup);

const TASK_ID = '0193a6f0-4c2e-7d31-8b6a-2f1e0c9d8b7a';
const AT = '2026-11-21T10:00:00.000Z';

const ENVELOPE: ResultEnvelope = {
  metadata: {
    run_id: 'lead-gen-run-42',
    agent: 'lead-gen',
    action: 'score_lead',
    generated_at: AT,
    summary: { items_updated: 2, avg_quality_score: 4.1 },
  },
  records: [
    {
      lead_id: 'co-001',
      company: 'Brightloom Software',
      quality_score: 4.6,
      signals: ['job_posting', 'funding_round'],
      components: { criteria_match: 1, buying_signals: 1 },
      provenance: {
        source: 'lead-gen-quality-formula',
        method: 'note_004_weighted_sum',
        retrieved_at: AT,
        url: 'https://brightloom-software.example.com',
        task_id: TASK_ID,
      },
    },
    {
      lead_id: 'co-007',
      company: 'Ledgerlark',
      phone: null,
      provenance: { source: 'lead-gen-quality-formula', retrieved_at: AT },
    },
  ],
};

function show(output: unknown, extra: Partial<TaskRow> = {}) {
  const task = { output, output_truncated: false, status: 'succeeded' as const, ...extra };
  return render(
    <MemoryRouter>
      <TaskOutput task={task} label="Task output" />
    </MemoryRouter>,
  );
}

const cellTexts = (row: HTMLElement) =>
  within(row)
    .getAllByRole('cell')
    .map((cell) => cell.textContent);

describe('TaskOutput with a result envelope', () => {
  it('shows the records as a table: ids, plain fields, then lists and objects, then provenance', () => {
    show(ENVELOPE);
    const table = screen.getByRole('table', { name: 'Task output: records' });
    const headers = within(table)
      .getAllByRole('columnheader')
      .map((header) => header.textContent);
    // Stored JSON keeps no key order, so the table makes one.
    expect(headers).toEqual([
      'lead_id',
      'company',
      'phone',
      'quality_score',
      'components',
      'signals',
      'provenance',
    ]);
    const [, first, second] = within(table).getAllByRole('row');
    const firstCells = cellTexts(first!);
    // Lists joined, objects as key: value pairs, a missing field and null as a dash.
    expect(firstCells.slice(0, 6)).toEqual([
      'co-001',
      'Brightloom Software',
      '—',
      '4.6',
      'criteria_match: 1, buying_signals: 1',
      'job_posting, funding_round',
    ]);
    expect(firstCells[6]).toContain('lead-gen-quality-formula (note_004_weighted_sum)');
    expect(
      within(first!).getByRole('link', { name: 'https://brightloom-software.example.com' }),
    ).toBeTruthy();
    expect(
      within(first!)
        .getByRole('link', { name: TASK_ID.slice(-8) })
        .getAttribute('href'),
    ).toBe(`/omnidash/tasks/${TASK_ID}`);
    expect(cellTexts(second!).slice(0, 6)).toEqual(['co-007', 'Ledgerlark', '—', '—', '—', '—']);
  });

  it('shows the metadata and summary above the records', () => {
    show(ENVELOPE);
    const metadata = screen.getByLabelText('Task output: metadata');
    expect(metadata.textContent).toContain('lead-gen-run-42');
    expect(metadata.textContent).toContain('lead-gen · score_lead');
    expect(metadata.textContent).toContain('items updated2');
    expect(metadata.textContent).toContain('avg quality score4.1');
  });

  it('toggles to the raw JSON and back', () => {
    show(ENVELOPE);
    const toggle = screen.getByRole('button', { name: 'Raw JSON' });
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.getByLabelText('Task output').textContent).toBe(
      JSON.stringify(ENVELOPE, null, 2),
    );
    fireEvent.click(toggle);
    expect(screen.getByRole('table', { name: 'Task output: records' })).toBeTruthy();
  });

  it('says there are no records rather than show an empty table', () => {
    show({ ...ENVELOPE, records: [] });
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.getByText('No records.')).toBeTruthy();
  });
});

describe('TaskOutput with anything else', () => {
  it.each([
    ['a plain object', { message: 'hello' }],
    [
      'an envelope with a record missing provenance',
      {
        ...ENVELOPE,
        records: [{ lead_id: 'co-001' }],
      },
    ],
  ])('shows %s as JSON, with no table and no toggle', (_name, output) => {
    show(output);
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Raw JSON' })).toBeNull();
    expect(screen.getByLabelText('Task output').textContent).toBe(JSON.stringify(output, null, 2));
  });
});
