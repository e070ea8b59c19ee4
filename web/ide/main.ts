import 'graphiql/style.css';
import './ide.css';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { createSubscriptionClient } from '../shared/websocket-client';
import { createIdeFetcher } from './ide-fetcher';
import { setUpMonacoWorkers } from './monaco-workers';
import { mountTokenBar } from './token-bar';

const DEFAULT_QUERY = `# Queries and mutations run over POST /graphql, subscriptions over the websocket.
# Set a token above (in development: npx ecs token --role auditor), then run:

query Tenants {
  tenants(first: 10) { items { id status jurisdiction } }
}

subscription LiveEvents {
  auditEvents { sequence eventType outcome actor chainId }
}
`;

setUpMonacoWorkers('/assets/ide');
const page = document.getElementById('ecs-ide')!;
const container = document.createElement('div');
container.className = 'ecs-graphiql';
let client = createSubscriptionClient();
const fetcher = createIdeFetcher(() => client);
const root = createRoot(container);

function render(): void {
  root.render(
    createElement(GraphiQL, {
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      shouldPersistHeaders: false,
      showPersistHeadersSettings: false,
    }),
  );
}

mountTokenBar(page, () => {
  // A new token: a new websocket (credentials go in connection_init), and the schema fetched
  // again with it (GraphiQL's own "re-fetch schema" button).
  void client.dispose();
  client = createSubscriptionClient();
  document.querySelector<HTMLButtonElement>('button[aria-label^="Re-fetch"]')?.click();
});
page.append(container);
render();
