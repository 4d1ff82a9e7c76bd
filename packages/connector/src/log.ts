/** Where the connector and the worker write their one-line messages. */
export type LogLine = (line: string) => void;

/** Timestamped lines on stdout, tagged with who wrote them. */
export function consoleLog(tag: string): LogLine {
  return (line) => console.log(`${new Date().toISOString()} [${tag}] ${line}`);
}
