/**
 * A short handle for a task on one screen. Task ids are UUIDv7, whose first
 * digits are the creation time (shared by tasks created the same minute), so
 * the handle is the random tail.
 */
export function shortId(id: string): string {
  return id.slice(-8);
}

/** "2 of 3" attempts. */
export function attemptsText(attempts: number, maxAttempts: number): string {
  return `${attempts} of ${maxAttempts}`;
}
