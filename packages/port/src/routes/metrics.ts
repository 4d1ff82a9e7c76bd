import { ENDPOINTS, FINAL_TASK_STATUSES, METRICS_CONTENT_TYPE } from '@omnihub/contracts';
import { Hono } from 'hono';
import type { PortDeps, PortHonoEnv } from '../context.ts';
import type { TenantMetrics } from '../db.ts';
import { isSqlRefusal, refusalToError } from '../errors.ts';
import { formatMetrics, type MetricFamily } from '../metrics-format.ts';
import { apiKey } from '../middleware/api-key.ts';

/** The metric families of GET /metrics, from one omnilink.port_metrics result. */
export function tenantMetricFamilies(metrics: TenantMetrics): MetricFamily[] {
  const finished = new Set<string>(FINAL_TASK_STATUSES);
  return [
    {
      name: 'omnihub_tasks',
      help: 'Tasks of the tenant now, by target and status (every status, zeros included).',
      type: 'gauge',
      samples: metrics.tasks.map((t) => ({
        labels: { target: t.target, status: t.status },
        value: t.count,
      })),
    },
    {
      name: 'omnihub_tasks_finished_total',
      help: "Tasks that ended, by target and outcome. An operator's retry of a failed task takes it out of failed again.",
      type: 'counter',
      samples: metrics.tasks
        .filter((t) => finished.has(t.status))
        .map((t) => ({ labels: { target: t.target, outcome: t.status }, value: t.count })),
    },
    {
      name: 'omnihub_events_total',
      help: 'Telemetry events stored, by source and type.',
      type: 'counter',
      samples: metrics.events.map((e) => ({
        labels: { source: e.source, type: e.type },
        value: e.count,
      })),
    },
    {
      name: 'omnihub_workers_online',
      help: 'Workers seen in the last minute, by source.',
      type: 'gauge',
      samples: metrics.workers_online.map((w) => ({
        labels: { source: w.source },
        value: w.count,
      })),
    },
    {
      name: 'omnihub_oldest_ready_task_age_seconds',
      help: 'Age of the oldest task ready to be claimed, by target; absent when none is ready.',
      type: 'gauge',
      samples: metrics.oldest_ready_age_seconds.map((r) => ({
        labels: { target: r.target },
        value: r.seconds,
      })),
    },
  ];
}

/** GET /metrics: Prometheus text for a `metrics:read` key, its whole tenant. */
export function metricsRoutes(deps: PortDeps) {
  const app = new Hono<PortHonoEnv>();
  app.get(ENDPOINTS.metrics.path, apiKey(ENDPOINTS.metrics), async (c) => {
    const result = await deps.db.metrics(c.var.key);
    if (isSqlRefusal(result)) throw refusalToError(result);
    return c.body(formatMetrics(tenantMetricFamilies(result)), 200, {
      'content-type': METRICS_CONTENT_TYPE,
      // Every scrape must see the database as it is now.
      'cache-control': 'no-store',
    });
  });
  return app;
}
