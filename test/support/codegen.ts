import { spawn } from 'node:child_process';
import path from 'node:path';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { REPO_ROOT } from '../../testkit/spawn-server';

const CODEGEN_TIMEOUT_MS = 50_000;

export interface GeneratedFile {
  filename: string;
  content: string;
}

/**
 * Runs graphql-codegen's `generate` on `config` (JSON-serialisable: schema pointers with their
 * headers, documents as text) in a child Node process (run-codegen.ts says why), and returns
 * the files it would write.
 */
export function runCodegen(config: CodegenConfig): Promise<GeneratedFile[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'run-codegen.ts')], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Within jest's test timeout, so a stuck run ends with the test that started it.
      timeout: CODEGEN_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as GeneratedFile[]);
      else reject(new Error(`graphql-codegen failed (exit ${code}):\n${stderr}`));
    });
    child.stdin.end(JSON.stringify(config));
  });
}
