import 'uplot/dist/uPlot.min.css';
import './style.css';
import { createApi } from './api.ts';
import { type Auth, createAuth } from './auth.ts';
import { readConfig } from './config.ts';
import { showDashboard } from './dashboard.ts';
import { h } from './dom.ts';
import { renderNotice } from './views.ts';

const main = document.getElementById('main') as HTMLElement;
const sessionBar = document.getElementById('session') as HTMLElement;

function loggedOut(auth: Auth, text: string): void {
  sessionBar.replaceChildren();
  main.replaceChildren(
    renderNotice(text, { label: 'Log in', onClick: () => void auth.login().catch(showError) }),
  );
}

function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  main.replaceChildren(renderNotice(`Something went wrong: ${message}`));
}

async function start(): Promise<void> {
  const config = readConfig(document);
  const auth = createAuth(config, window.location, window.history);
  await auth.completeLogin();
  const session = await auth.session();
  if (!session) {
    loggedOut(auth, 'Log in to see whether Gong can record your team’s meetings.');
    return;
  }
  if (session.expired) {
    loggedOut(auth, 'Your login has expired. Log in again to go on.');
    return;
  }
  sessionBar.replaceChildren(
    h('span', {}, 'Logged in as ', h('strong', {}, session.email ?? session.name ?? 'you')),
    ' ',
    h(
      'button',
      {
        type: 'button',
        id: 'logout',
        onclick: () => {
          auth
            .logout()
            .then(() => loggedOut(auth, 'You are logged out.'))
            .catch(showError);
        },
      },
      'Log out',
    ),
  );
  const api = createApi({ base: config.apiBase ?? '', token: () => session.token });
  await showDashboard(main, api, session.email, {
    role: session.role,
    onUnauthorized: () => loggedOut(auth, 'Your login has expired or was refused. Log in again to go on.'),
  });
}

start().catch(showError);
