// First, so each screen's own stylesheet (imported with it) comes after and wins ties.
import './styles.css';
import { createClient } from '@supabase/supabase-js';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { readConfig } from './config.ts';
import { portUrlOf } from './supabase-context.tsx';

const root = createRoot(document.getElementById('root')!);
try {
  const config = readConfig();
  const backend = {
    supabase: createClient(config.supabaseUrl, config.supabaseAnonKey),
    portUrl: portUrlOf(config.supabaseUrl),
  };
  root.render(
    <StrictMode>
      <App backend={backend} />
    </StrictMode>,
  );
} catch (error) {
  root.render(
    <main className="page-message" role="alert">
      <h1>OmniDash cannot start</h1>
      <p>{(error as Error).message}</p>
    </main>,
  );
}
