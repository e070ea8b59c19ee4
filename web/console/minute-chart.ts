import type { LiveEvent } from './event-check';

const OUTCOMES = ['accepted', 'refused', 'failed'] as const;
const COLOURS: Record<string, string> = { accepted: '#2e7d32', refused: '#c62828', failed: '#ef6c00' };
const SVG = 'http://www.w3.org/2000/svg';
const MINUTES = 30;

function svgElement(name: string, attributes: Record<string, string | number>): SVGElement {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** Events per minute by outcome over the last 30 minutes, as stacked bars (plain SVG). */
export function renderMinuteChart(target: HTMLElement, events: readonly LiveEvent[], now = Date.now()): void {
  const width = 600;
  const height = 120;
  const lastMinute = Math.floor(now / 60_000);
  const counts = Array.from({ length: MINUTES }, () => ({ accepted: 0, refused: 0, failed: 0 }) as Record<string, number>);
  for (const event of events) {
    const index = MINUTES - 1 - (lastMinute - Math.floor(Date.parse(event.occurredAt) / 60_000));
    const bucket = counts[index];
    if (bucket && event.outcome in bucket) bucket[event.outcome] = (bucket[event.outcome] ?? 0) + 1;
  }
  const most = Math.max(1, ...counts.map((bucket) => OUTCOMES.reduce((sum, outcome) => sum + (bucket[outcome] ?? 0), 0)));
  const svg = svgElement('svg', { viewBox: `0 0 ${width} ${height + 20}`, role: 'img', 'aria-label': 'events per minute by outcome' });
  const barWidth = width / MINUTES;
  counts.forEach((bucket, index) => {
    let y = height;
    for (const outcome of OUTCOMES) {
      const count = bucket[outcome] ?? 0;
      if (!count) continue;
      const barHeight = (count / most) * (height - 10);
      y -= barHeight;
      const bar = svgElement('rect', { x: index * barWidth + 1, y, width: barWidth - 2, height: barHeight, fill: COLOURS[outcome]! });
      const title = svgElement('title', {});
      title.textContent = `${count} ${outcome}`;
      bar.append(title);
      svg.append(bar);
    }
  });
  svg.append(svgElement('line', { x1: 0, y1: height, x2: width, y2: height, stroke: '#999' }));
  const left = svgElement('text', { x: 0, y: height + 15, 'font-size': 11 });
  left.textContent = `${MINUTES} min ago`;
  const right = svgElement('text', { x: width, y: height + 15, 'font-size': 11, 'text-anchor': 'end' });
  right.textContent = `now (max ${most}/min)`;
  svg.append(left, right);
  target.replaceChildren(svg);
}
