export {
  DEMO_SOURCES,
  DEMO_TENANT,
  ensureDemoKeys,
  loadLocalSecret,
  type DemoKey,
} from './demo.ts';
export { startLocalStack, type LocalStack, type LocalStackOptions } from './stack.ts';
export { loadDotEnv, readLocalSettings, type LocalSettings } from './settings.ts';
export { openLocalDatabase, type OpenDatabase } from './open-database.ts';
