/** The migrated database every test database is cloned from. */
export const TEMPLATE_DATABASE = 'omnihub_test_template';

// Here, where both the global setup and the test files' database helper
// import from, so every program that uses either sees the provided value.
declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test server's maintenance database. */
    omnihubServerUrl: string;
  }
}
