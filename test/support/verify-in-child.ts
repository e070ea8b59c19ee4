// Verifies one bundle in a process of its own and prints the result with the process's
// peak resident memory (the kernel's high-water mark), for the verifier's memory tests:
// tsx test/support/verify-in-child.ts <bundle directory | .tar.gz>
import { verifyBundlePath } from '../../lib/bundle/verify-bundle';

async function main(): Promise<void> {
  const result = await verifyBundlePath(process.argv[2]!);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ ok: result.ok, events: result.events, peakRssBytes, checks: result.checks })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
