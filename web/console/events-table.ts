import type { KeptCheck } from './chain-window';

function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** The rows given (newest first): sequence, type, outcome, actor, refusal reason and the browser's verdict on the hash and link. */
export function renderEventsTable(body: HTMLTableSectionElement, rows: readonly KeptCheck[]): void {
  body.replaceChildren();
  for (const { event, problems } of rows) {
    const row = body.insertRow();
    row.dataset.sequence = String(event.sequence);
    row.className = problems.length ? 'broken' : 'verified';
    cell(row, String(event.sequence), 'sequence');
    cell(row, event.eventType);
    cell(row, event.outcome, `outcome-${event.outcome}`);
    cell(row, event.actor);
    cell(row, event.refusalReasonCode ? `${event.refusalReasonCode}: ${event.refusalReason ?? ''}` : '');
    const status = cell(row, problems.length ? `✗ broken: ${problems.join('; ')}` : '✓ verified', 'check');
    status.title = event.eventHash;
  }
}
