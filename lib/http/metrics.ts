import type { Request, Response } from 'express';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { serviceRegistry } from '../metrics/service-metrics';

/** Prometheus metrics of one gateway: Node's defaults and request durations, and the process's service metrics. */
export class HttpMetrics {
  readonly registry = new Registry();
  private readonly duration = new Histogram({
    name: 'ecs_http_request_duration_seconds',
    help: 'HTTP request duration by method, route class and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Records a finished request; the route label is the first path segment, to bound cardinality. */
  observe = (req: Request, res: Response, seconds: number): void => {
    const route = /^\/(graphql|v1|healthz|readyz|metrics|\.well-known)\b/.exec(req.originalUrl)?.[1] ?? 'other';
    this.duration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
  };

  /** The text of `/metrics`: this gateway's metrics and the service metrics of its process. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    const registry = Registry.merge([this.registry, serviceRegistry]);
    return { contentType: registry.contentType, text: await registry.metrics() };
  }
}
