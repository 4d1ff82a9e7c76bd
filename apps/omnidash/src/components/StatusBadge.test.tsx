// @vitest-environment happy-dom
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { StatusBadge } from './StatusBadge.tsx';

describe('StatusBadge', () => {
  it('says the status in words, not only in colour', () => {
    render(<StatusBadge status="waiting_approval" />);
    expect(screen.getByText('waiting approval').dataset.status).toBe('waiting_approval');
  });
});
