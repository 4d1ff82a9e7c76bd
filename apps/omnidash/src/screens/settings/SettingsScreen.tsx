import { usePageTitle } from '../../components/use-page-title.ts';

export function SettingsScreen() {
  usePageTitle('Settings');
  return (
    <section className="screen">
      <h1>Settings</h1>
    </section>
  );
}
