import type { CheckedEvent } from './event-check';

export interface TableFilter {
  /** Exact type, or a family with a trailing `.*`; empty: all. */
  eventType: string;
  /** accepted, refused or failed; empty: all. */
  outcome: string;
}

function matches(checked: CheckedEvent, filter: TableFilter): boolean {
  const { eventType, outcome } = checked.event;
  if (filter.outcome && outcome !== filter.outcome) return false;
  if (!filter.eventType) return true;
  return filter.eventType.endsWith('.*') ? eventType.startsWith(filter.eventType.slice(0, -1)) : eventType === filter.eventType;
}

function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** Newest first: sequence, type, outcome, actor, refusal reason and the browser's verdict on the hash and link. */
export function renderEventsTable(body: HTMLTableSectionElement, events: readonly CheckedEvent[], filter: TableFilter): void {
  const rows = events.filter((checked) => matches(checked, filter)).reverse();
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
