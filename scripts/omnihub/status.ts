import type { StatsResponse } from '@omnihub/contracts';
import { connectorFromHere, parseCommandArgs } from './here.ts';

/** `pnpm omnihub status [--json]`: the key's target now (GET /stats). */
export async function runStatus(argv: string[]): Promise<string> {
  const { values } = parseCommandArgs(
    argv,
    { json: { type: 'boolean', default: false } },
    'status',
  );
  const stats = await connectorFromHere().stats();
  return values.json ? JSON.stringify(stats) : formatStatus(stats, new Date());
}

export function formatStatus(stats: StatsResponse, now: Date): string {
  const ago = (iso: string | null) =>
    iso ? `${Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000))} s ago` : '-';
  const counts = Object.entries(stats.tasks)
    .map(([status, count]) => `${status} ${count}`)
    .join(' · ');
  const lines = [
    `${stats.target} tasks: ${counts}`,
    `finished in the last 5 minutes: ${stats.finished_last_5m} · oldest ready task: ${stats.oldest_ready_age_seconds === null ? 'none waiting' : `${stats.oldest_ready_age_seconds} s`}`,
    stats.paused
      ? 'paused: yes — workers get no task until an operator resumes the target (OmniDash → Runner)'
      : 'paused: no',
    `action limits: ${
      stats.limits.length === 0
        ? 'none'
        : stats.limits
            .map((limit) => `${limit.action} ${limit.running} of ${limit.max_running} running`)
            .join(' · ')
    }`,
  ];
  if (stats.workers.length === 0) {
    lines.push('no worker seen in the last minute');
  } else {
    lines.push(`workers seen in the last minute (${stats.workers.length}):`);
    const width = Math.max(...stats.workers.map((w) => w.worker_id.length));
    for (const worker of stats.workers) {
      lines.push(
        `  ${worker.worker_id.padEnd(width)}  last seen ${ago(worker.last_seen_at)}  last claim ${ago(worker.last_claim_at)}`,
      );
    }
  }
  return lines.join('\n');
}
