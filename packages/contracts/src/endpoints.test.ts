import { describe, expect, it } from 'vitest';
import { ENDPOINTS, type Endpoint } from './endpoints.ts';
import { ErrorCode } from './errors.ts';
import { Scope } from './scopes.ts';

const endpoints = Object.entries(ENDPOINTS) as [string, Endpoint][];

describe('ENDPOINTS', () => {
  it('gives every endpoint a distinct method and path', () => {
    const keys = endpoints.map(([, e]) => `${e.method} ${e.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(endpoints)('%s has an absolute OpenAPI-style path', (_name, endpoint) => {
    expect(endpoint.path).toMatch(/^\/[a-z0-9/{}._-]*$/);
  });

  it.each(endpoints)('%s names only known scopes and error codes', (_name, endpoint) => {
    for (const scope of endpoint.scopes ?? []) expect(Scope.options).toContain(scope);
    for (const code of endpoint.errors) expect(ErrorCode.options).toContain(code);
    expect(new Set(endpoint.errors).size).toBe(endpoint.errors.length);
  });

  it.each(endpoints.filter(([, e]) => e.scopes !== null))(
    '%s needs a key, so it can answer unauthorized and permission_denied',
    (_name, endpoint) => {
      expect(endpoint.scopes!.length).toBeGreaterThan(0);
      expect(endpoint.errors).toEqual(
        expect.arrayContaining(['unauthorized', 'permission_denied', 'rate_limited']),
      );
    },
  );

  it.each(endpoints.filter(([, e]) => e.body))(
    '%s takes a body, so it can answer 400 and 413',
    (_name, endpoint) => {
      expect(endpoint.method).toBe('post');
      expect(endpoint.errors).toEqual(
        expect.arrayContaining(['invalid_request', 'payload_too_large']),
      );
    },
  );

  it('leaves only health and openapi without a key', () => {
    expect(
      endpoints
        .filter(([, e]) => e.scopes === null)
        .map(([name]) => name)
        .sort(),
    ).toEqual(['health', 'openapi']);
  });

  it('lets every task scope read a task', () => {
    expect([...ENDPOINTS.getTask.scopes].sort()).toEqual([
      'tasks:claim',
      'tasks:complete',
      'tasks:create',
    ]);
  });

  it('gives metrics:read nothing but the metrics and asking what the key is', () => {
    expect(
      endpoints
        .filter(([, e]) => e.scopes?.includes('metrics:read'))
        .map(([name]) => name)
        .sort(),
    ).toEqual(['metrics', 'whoami']);
    expect(ENDPOINTS.metrics.scopes).toEqual(['metrics:read']);
  });

  it('lets every scope ask what its key is', () => {
    expect([...ENDPOINTS.whoami.scopes].sort()).toEqual([...Scope.options].sort());
  });
});
