import { usePageTitle } from '../../components/use-page-title.ts';

export function TaskDetailScreen() {
  usePageTitle('Task');
  return (
    <section className="screen">
      <h1>Task</h1>
    </section>
  );
}
