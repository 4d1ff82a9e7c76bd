import { usePageTitle } from '../../components/use-page-title.ts';

export function IntegrationsScreen() {
  usePageTitle('Integrations');
  return (
    <section className="screen">
      <h1>Integrations</h1>
    </section>
  );
}
