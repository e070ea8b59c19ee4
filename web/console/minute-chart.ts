import { OUTCOMES } from './chain-window';
import type { OutcomeCounts } from './chain-window';

const COLOURS: Record<string, string> = { accepted: '#2e7d32', refused: '#c62828', failed: '#ef6c00' };
const SVG = 'http://www.w3.org/2000/svg';

function svgElement(name: string, attributes: Record<string, string | number>): SVGElement {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** Events per minute by outcome over the last minutes (oldest first), as stacked bars (plain SVG). */
export function renderMinuteChart(target: HTMLElement, counts: readonly OutcomeCounts[]): void {
  const width = 600;
  const height = 120;
  const minutes = counts.length;
  const most = Math.max(1, ...counts.map((bucket) => OUTCOMES.reduce((sum, outcome) => sum + bucket[outcome], 0)));
  const svg = svgElement('svg', { viewBox: `0 0 ${width} ${height + 20}`, role: 'img', 'aria-label': 'events per minute by outcome' });
  const barWidth = width / minutes;
  counts.forEach((bucket, index) => {
    let y = height;
    for (const outcome of OUTCOMES) {
      const count = bucket[outcome];
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
  left.textContent = `${minutes} min ago`;
  const right = svgElement('text', { x: width, y: height + 15, 'font-size': 11, 'text-anchor': 'end' });
  right.textContent = `now (max ${most}/min)`;
  svg.append(left, right);
  target.replaceChildren(svg);
}
