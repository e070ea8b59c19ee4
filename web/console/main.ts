import './console.css';
import { dataOf, postGraphQL } from '../shared/graphql-request';
import { readToken } from '../shared/token-store';
import { createSubscriptionClient } from '../shared/websocket-client';
import { watchChain } from './chain-view';
import type { ChainWatch } from './chain-view';
import { KEPT_EVENTS } from './chain-window';
import type { ChainWindow } from './chain-window';
import { renderEventsTable } from './events-table';
import { mountExportPanel } from './export-panel';
import { renderMinuteChart } from './minute-chart';
import { mountSignIn, tenantOfToken } from './sign-in';

const root = document.getElementById('ecs-console')!;
function element<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  Object.assign(created, properties);
  return created;
}

const title = element('h1', { textContent: "Auditor's console" });
const tenantForm = element('form', { className: 'tenant-picker' });
const tenantInput = element('input', { id: 'console-tenant', placeholder: 'tenant id' });
tenantInput.setAttribute('list', 'console-tenants');
const tenantList = element('datalist', { id: 'console-tenants' });
tenantForm.append('Tenant ', tenantInput, tenantList, ' ', element('button', { type: 'submit', textContent: 'Watch the chain' }));
const status = element('p', { id: 'chain-status', className: 'chain-status', textContent: 'Sign in, then pick a tenant.' });
const filters = element('form', { className: 'filters' });
const typeFilter = element('input', { id: 'filter-type', placeholder: 'event type or family.*' });
const outcomeFilter = element('select', { id: 'filter-outcome' });
for (const value of ['', 'accepted', 'refused', 'failed']) outcomeFilter.add(new Option(value || 'any outcome', value));
filters.append('Filter ', typeFilter, ' ', outcomeFilter);
const chart = element('div', { id: 'minute-chart', className: 'minute-chart' });
const table = element('table', { id: 'chain-table', className: 'chain-table' });
table
  .createTHead()
  .insertRow()
  .append(
    ...['sequence', 'type', 'outcome', 'actor', 'refusal reason', 'browser check'].map((text) => element('th', { textContent: text })),
  );
const tableBody = table.createTBody();
const tableNote = element('p', { id: 'table-note', className: 'table-note' });

let chain: ChainWindow | undefined;
/** Why the watch ended, when it failed (shown instead of the verdict so far). */
let failure: string | undefined;
let watch: ChainWatch | undefined;
let client = createSubscriptionClient();

function render(): void {
  if (!chain) return;
  const { rows, matching } = chain.rows({ eventType: typeFilter.value.trim(), outcome: outcomeFilter.value });
  renderEventsTable(tableBody, rows);
  tableNote.textContent =
    chain.total > chain.keptCount
      ? `The table holds the newest ${rows.length} of ${matching} matching among the chain's last ${KEPT_EVENTS} events (and the first broken ones); every event of the chain was checked.`
      : rows.length < matching
        ? `The table holds the newest ${rows.length} of ${matching} matching events.`
        : '';
  renderMinuteChart(chart, chain.minuteCounts());
  const broken = chain.firstBreak;
  status.className = `chain-status ${broken || failure ? 'broken' : 'verified'}`;
  status.textContent = broken
    ? `✗ Chain broken at sequence ${broken.event.sequence}: ${broken.problems.join('; ')} (${chain.broken} of ${chain.total} events with a problem)`
    : `✓ ${chain.total} events, every hash and link verified in this browser`;
  if (failure) status.textContent = `${failure}. ${status.textContent}`;
}

async function loadTenants(): Promise<void> {
  const own = tenantOfToken(readToken());
  if (own && !tenantInput.value) tenantInput.value = own;
  const response = await postGraphQL<{ tenants: { items: Array<{ id: string }> } }>('{ tenants(first: 100) { items { id } } }');
  try {
    tenantList.replaceChildren(...dataOf(response).tenants.items.map(({ id }) => new Option(id, id)));
  } catch {
    // A tenant's own auditor may not list tenants: the field stays free text.
  }
}

function startWatching(): void {
  const tenantId = tenantInput.value.trim();
  if (!tenantId) return;
  watch?.stop();
  chain = undefined;
  failure = undefined;
  tableBody.replaceChildren();
  tableNote.textContent = '';
  status.className = 'chain-status';
  status.textContent = `Reading the chain of ${tenantId}...`;
  watch = watchChain(
    client,
    tenantId,
    (latest) => {
      chain = latest;
      render();
    },
    (message) => {
      failure = message;
      status.className = 'chain-status broken';
      status.textContent = message;
      render();
    },
  );
}

root.append(title);
mountSignIn(root, () => {
  watch?.stop();
  void client.dispose();
  client = createSubscriptionClient();
  void loadTenants();
});
root.append(tenantForm, status, filters, chart);
mountExportPanel(root, () => tenantInput.value.trim());
root.append(tableNote, table);
tenantForm.addEventListener('submit', (event) => {
  event.preventDefault();
  startWatching();
});
typeFilter.addEventListener('input', render);
outcomeFilter.addEventListener('change', render);
filters.addEventListener('submit', (event) => event.preventDefault());
if (readToken()) void loadTenants();
