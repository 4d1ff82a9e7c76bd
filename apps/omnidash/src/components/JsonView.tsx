/** Pretty-printed JSON, scrollable, selectable. */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2) ?? 'null'}
    </pre>
  );
}
