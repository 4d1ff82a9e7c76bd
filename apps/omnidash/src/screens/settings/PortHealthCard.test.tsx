// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PortHealthCard } from './PortHealthCard.tsx';

afterEach(cleanup);

const PORT = 'https://ref.supabase.co/functions/v1/omnilink-port';
const checkedAt = new Date().toISOString();

describe('PortHealthCard', () => {
  it('shows the deployment-wide switch off, with what the port said and when', () => {
    render(
      <PortHealthCard
        health={{
          state: 'off',
          message: 'OmniLink is switched off for this deployment (OMNILINK_ENABLED=false).',
          checkedAt,
        }}
        portUrl={PORT}
        checking={false}
        onCheck={() => {}}
      />,
    );
    expect(screen.getByText('Off').dataset.state).toBe('off');
    expect(screen.getByRole('status').textContent).toBe('Off: OMNILINK_ENABLED is Off');
    screen.getByText('OmniLink is switched off for this deployment (OMNILINK_ENABLED=false).');
    expect(screen.getByText('Checked').nextElementSibling?.querySelector('time')?.dateTime).toBe(
      checkedAt,
    );
    screen.getByText(`${PORT}/health`);
  });

  it('says plainly when the port cannot be reached', () => {
    render(
      <PortHealthCard
        health={{ state: 'unreachable', message: 'The request to the port failed.', checkedAt }}
        portUrl={PORT}
        checking={false}
        onCheck={() => {}}
      />,
    );
    expect(screen.getByText('Cannot reach the port').dataset.state).toBe('unreachable');
    screen.getByText('The request to the port failed.');
  });

  it('shows on with the port version, and checks again on request', () => {
    const onCheck = vi.fn();
    render(
      <PortHealthCard
        health={{ state: 'on', version: '0.1.0', checkedAt }}
        portUrl={PORT}
        checking={false}
        onCheck={onCheck}
      />,
    );
    expect(screen.getByText('On').dataset.state).toBe('on');
    screen.getByText('0.1.0');
    fireEvent.click(screen.getByRole('button', { name: 'Check again' }));
    expect(onCheck).toHaveBeenCalledTimes(1);
  });

  it('disables the button while a check runs', () => {
    render(<PortHealthCard health={undefined} portUrl={PORT} checking onCheck={() => {}} />);
    screen.getByText('Checking the port…');
    expect((screen.getByRole('button', { name: 'Checking…' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });
});
