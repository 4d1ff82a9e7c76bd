import { usePageTitle } from '../../components/use-page-title.ts';

export function TasksScreen() {
  usePageTitle('Tasks');
  return (
    <section className="screen">
      <h1>Tasks</h1>
    </section>
  );
}
