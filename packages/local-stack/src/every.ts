/**
 * Runs `job` every `everyMs`, one run at a time (the next waits for the
 * previous to finish), until stopped: the local stack's stand-in for a
 * pg_cron job. A run that throws is reported and the next one tried as usual.
 */
export function runEvery(
  everyMs: number,
  job: () => Promise<void>,
  onError: (error: Error) => void,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();

  const run = async () => {
    try {
      await job();
    } catch (error) {
      if (!stopped) onError(error as Error);
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = run().then(() => {
        if (!stopped) schedule();
      });
    }, everyMs);
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
