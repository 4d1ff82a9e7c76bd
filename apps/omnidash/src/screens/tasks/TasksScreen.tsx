import { usePageTitle } from '../../components/use-page-title.ts';
import { CreateTaskForm } from './CreateTaskForm.tsx';
import { LeadGenRunCard } from './LeadGenRunCard.tsx';
import { QuickDispatch } from './QuickDispatch.tsx';
import { TaskList } from './TaskList.tsx';
import './tasks.css';

/** /omnidash/tasks: dispatch tasks, and watch and steer the tenant's tasks live. */
export function TasksScreen() {
  usePageTitle('Tasks');
  return (
    <section className="screen">
      <h1>Tasks</h1>
      <div className="tasks-top">
        <CreateTaskForm />
        <QuickDispatch />
      </div>
      <LeadGenRunCard />
      <TaskList />
    </section>
  );
}
