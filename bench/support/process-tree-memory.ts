// Peak resident memory of a process and everything it started, sampled from /proc (Linux):
// the benchmarks that start real server processes report their peak this way.
import { readFileSync, readdirSync } from 'node:fs';

/** `VmHWM` (the kernel's high-water mark) and `VmRSS` of a process, in bytes (0 once it is gone). */
export function memoryOf(pid: number): { peak: number; current: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { peak: kb('VmHWM'), current: kb('VmRSS') };
  } catch {
    return { peak: 0, current: 0 };
  }
}

/** Pids of the descendants of `root`, from every process's parent in /proc. */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while scanning.
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

export interface TreeMemorySampler {
  /** The sum of the tree's VmRSS now. */
  current(): number;
  /** The highest sum of the tree's VmRSS since the last `mark()` (or the start). */
  mark(): number;
  /**
   * The peak of the whole run: the larger of the highest sampled sum of the tree's VmRSS and
   * the largest VmHWM of one of its processes (which catches a peak between two samples).
   */
  peak(): number;
  /** How many processes the tree had at most. */
  processes(): number;
  stop(): void;
}

/** Samples the process tree of `root` every `intervalMs` (default 100 ms) until stopped. */
export function sampleProcessTree(root: number, intervalMs = 100): TreeMemorySampler {
  let sincePeak = 0;
  let treePeak = 0;
  let largestHwm = 0;
  let mostProcesses = 0;
  const sample = (): number => {
    const pids = [root, ...descendantsOf(root)];
    let sum = 0;
    for (const pid of pids) {
      const memory = memoryOf(pid);
      largestHwm = Math.max(largestHwm, memory.peak);
      sum += memory.current;
    }
    mostProcesses = Math.max(mostProcesses, pids.length);
    sincePeak = Math.max(sincePeak, sum);
    treePeak = Math.max(treePeak, sum);
    return sum;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    current: sample,
    mark: () => {
      sample();
      const peak = sincePeak;
      sincePeak = 0;
      return peak;
    },
    peak: () => Math.max(treePeak, largestHwm),
    processes: () => mostProcesses,
    stop: () => clearInterval(timer),
  };
}
