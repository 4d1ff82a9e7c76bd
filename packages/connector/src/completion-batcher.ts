import { MAX_BATCH_COMPLETIONS, type TaskCompletionResult } from '@omnihub/contracts';
import type { CompleteInput, OmniHubConnector } from './connector.ts';

interface Pending {
  taskId: string;
  input: CompleteInput;
  resolve(result: TaskCompletionResult): void;
  reject(error: unknown): void;
}

/**
 * Gathers a worker's completions for `delayMs` after the first one (or until
 * a batch is full) and sends them in one POST /tasks/complete. Each caller
 * gets its own completion's result; a request that fails (after the
 * connector's retries) rejects every completion it carried.
 */
export class CompletionBatcher {
  readonly #connector: OmniHubConnector;
  readonly #delayMs: number;
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(connector: OmniHubConnector, delayMs: number) {
    this.#connector = connector;
    this.#delayMs = delayMs;
  }

  complete(taskId: string, input: CompleteInput): Promise<TaskCompletionResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ taskId, input, resolve, reject });
      if (this.#pending.length >= MAX_BATCH_COMPLETIONS) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#delayMs);
    });
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    this.#connector.completeMany(batch.map(({ taskId, input }) => ({ taskId, ...input }))).then(
      (results) => batch.forEach((pending, index) => pending.resolve(results[index]!)),
      (error: unknown) => batch.forEach((pending) => pending.reject(error)),
    );
  }
}
