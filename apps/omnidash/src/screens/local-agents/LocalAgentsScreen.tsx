import { usePageTitle } from '../../components/use-page-title.ts';

export function LocalAgentsScreen() {
  usePageTitle('Local agents');
  return (
    <section className="screen">
      <h1>Local agents</h1>
    </section>
  );
}
