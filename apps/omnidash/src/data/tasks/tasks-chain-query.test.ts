import { describe, expect, it } from 'vitest';
import { dependencyOrder } from './tasks-chain-query.ts';

const node = (id: string, depends_on: string[] = []) => ({ id, depends_on });
const ids = (rows: { id: string }[]) => rows.map((row) => row.id);

describe('dependencyOrder', () => {
  it('puts every task after the tasks it depends on, whatever order they came in', () => {
    expect(ids(dependencyOrder([node('c', ['b']), node('a'), node('b', ['a'])]))).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('keeps the given order among tasks that are ready together, and ignores dependencies outside the chain', () => {
    const rows = [
      node('x', ['outside']),
      node('top'),
      node('right', ['top']),
      node('left', ['top']),
      node('bottom', ['left', 'right']),
    ];
    expect(ids(dependencyOrder(rows))).toEqual(['x', 'top', 'right', 'left', 'bottom']);
  });
});
