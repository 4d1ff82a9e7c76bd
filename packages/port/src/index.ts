export { createPortApp, consoleLogger, PORT_BASE_PATH, PORT_VERSION } from './app.ts';
export type { PortApp, PortAppOptions } from './app.ts';
export { parseBooleanSetting, parsePortConfig } from './config.ts';
export type { PortLogger } from './context.ts';
export { sha256Hex } from './credentials.ts';
export type { Sql } from './db.ts';
export { TaskSignals, TASK_READY_CHANNEL } from './task-signals.ts';
