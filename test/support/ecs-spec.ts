import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Vendored copies of the ECS specification's examples (see test/fixtures/ecs-spec/README.md). */
export const ECS_SPEC_FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'ecs-spec');

export function goldenBundleDir(name: 'baseline' | 'ncp'): string {
  return path.join(ECS_SPEC_FIXTURES, 'evidence-bundles', name);
}

export function readGoldenEvents(name: 'baseline' | 'ncp'): string[] {
  return readFileSync(path.join(goldenBundleDir(name), 'events.jsonl'), 'utf8')
    .trim()
    .split('\n');
}

export function readGoldenJson<T>(name: 'baseline' | 'ncp', file: string): T {
  return JSON.parse(readFileSync(path.join(goldenBundleDir(name), file), 'utf8')) as T;
}
