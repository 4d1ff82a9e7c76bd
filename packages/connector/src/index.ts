export {
  environment,
  resolveConfig,
  type ConfigInput,
  type ConnectorConfig,
  type Env,
} from './config.ts';
export {
  OmniHubConnector,
  type CallOptions,
  type ClaimOptions,
  type CompleteInput,
  type ConnectorOptions,
  type EventInput,
} from './connector.ts';
export { ConfigError, NonRetryableError, OmniHubError } from './errors.ts';
export { consoleLog, type LogLine } from './log.ts';
export { DEFAULT_RETRY, backoffDelay, sleep, type RetryPolicy } from './retry.ts';
export {
  DEFAULT_WORKER_OPTIONS,
  TaskAbandoned,
  TaskWorker,
  type TaskContext,
  type TaskHandler,
  type TaskHandlers,
  type TaskWorkerOptions,
} from './task-worker.ts';
export {
  MAX_HYBRID_SECONDS,
  runAgent,
  type AgentContext,
  type AgentDefinition,
  type RunAgentOptions,
} from './agent.ts';
