import { Link } from 'react-router';
import { usePageTitle } from '../components/use-page-title.ts';

export function NotFoundScreen() {
  usePageTitle('Not found');
  return (
    <section className="screen">
      <h1>Nothing here</h1>
      <p>
        This address is not part of OmniDash. Go to{' '}
        <Link to="/omnidash/local-agents">Local agents</Link>.
      </p>
    </section>
  );
}
