import { Window } from 'happy-dom';

/**
 * happy-dom's document for a test that also runs the local stack in the
 * same process. Vitest's happy-dom environment replaces fetch, Request,
 * Response, Headers, URL and AbortController with happy-dom's own, which the
 * stack's HTTP server (and Node's fileURLToPath) cannot work with; this puts
 * only what Node lacks (window, document, the DOM classes) on globalThis and
 * leaves Node's networking alone. Import it before React.
 */
const page = new Window({ url: 'http://localhost/' });
const names = new Set<string>();
for (
  let proto: object | null = page;
  proto && proto !== Object.prototype;
  proto = Object.getPrototypeOf(proto)
)
  for (const name of Object.getOwnPropertyNames(proto)) names.add(name);
for (const name of names) {
  if (name in globalThis || name === 'constructor') continue;
  const value = (page as unknown as Record<string, unknown>)[name];
  Object.defineProperty(globalThis, name, {
    configurable: true,
    writable: true,
    // Methods like getComputedStyle are called unbound.
    value: typeof value === 'function' && /^[a-z]/.test(name) ? value.bind(page) : value,
  });
}
Object.defineProperty(globalThis, 'window', {
  configurable: true,
  writable: true,
  value: globalThis,
});

export { page };
