import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTemplates } from '../../testkit/embedded-template';
import { makeTempDir } from '../../testkit/temp-dir';

describe('embedded database templates', () => {
  it('removes only other templates unused for longer than the limit, never the current one or other files', async () => {
    const temp = await makeTempDir('ecs-template-test-');
    try {
      const now = Date.now();
      const day = 24 * 3600 * 1000;
      const make = async (name: string, ageMs: number) => {
        await mkdir(path.join(temp.path, name, 'base'), { recursive: true });
        await writeFile(path.join(temp.path, name, 'PG_VERSION'), '16');
        const when = new Date(now - ageMs);
        await utimes(path.join(temp.path, name), when, when);
      };
      await make('ecs-pglite-template-current', 3 * day);
      await make('ecs-pglite-template-old', 2 * day);
      await make('ecs-pglite-template-recent', 3600 * 1000);
      await make('ecs-pglite-scratch-abc', 3 * day);
      await writeFile(path.join(temp.path, 'ecs-pglite-template-file'), 'not a directory');

      const removed = await removeStaleTemplates(temp.path, 'ecs-pglite-template-current', day, now);
      expect(removed).toEqual(['ecs-pglite-template-old']);
      expect((await readdir(temp.path)).sort()).toEqual([
        'ecs-pglite-scratch-abc',
        'ecs-pglite-template-current',
        'ecs-pglite-template-file',
        'ecs-pglite-template-recent',
      ]);
    } finally {
      await temp.remove();
    }
  });
});
