import { dataOf, postGraphQL } from '../shared/graphql-request';
import { authorization } from '../shared/token-store';

const PROFILES = ['ecs-evidence-baseline', 'ecs-evidence-admissible', 'ecs-evidence-ncp'] as const;
const EXPORT_FIELDS = 'id state fromSequence toSequence eventsDone bundleHash merkleRoot kid error bundlePath';

interface ExportState {
  id: string;
  state: string;
  fromSequence: number;
  toSequence: number;
  eventsDone: number;
  bundleHash: string | null;
  error: string | null;
  bundlePath: string | null;
}

interface ChainVerdict {
  valid: boolean;
  checked: number;
  firstBadSequence: number | null;
  reason: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

async function waitForExport(id: string, onProgress: (state: ExportState) => void): Promise<ExportState> {
  for (;;) {
    const { evidenceExport } = dataOf(
      await postGraphQL<{ evidenceExport: ExportState | null }>(`query($id: ID!) { evidenceExport(id: $id) { ${EXPORT_FIELDS} } }`, { id }),
    );
    if (!evidenceExport) throw new Error(`export ${id} is gone`);
    onProgress(evidenceExport);
    if (evidenceExport.state === 'completed' || evidenceExport.state === 'failed') return evidenceExport;
    await sleep(1000);
  }
}

/**
 * Starts an evidence export of the tenant's chain, waits for it, then downloads the bundle
 * (with the tab's token) and offers it as a file. The verdict shown is the server's: a
 * completed export passed the audit plane's chain verification while it was planned (a
 * broken chain fails the export), and `verifyChain` is asked again for the same range.
 */
export function mountExportPanel(parent: HTMLElement, tenant: () => string): void {
  const panel = document.createElement('section');
  panel.className = 'export-panel';
  const profile = document.createElement('select');
  profile.id = 'export-profile';
  for (const name of PROFILES) profile.add(new Option(name, name));
  const start = document.createElement('button');
  start.id = 'export-start';
  start.textContent = 'Export the chain';
  const status = document.createElement('span');
  status.id = 'export-status';
  const link = document.createElement('a');
  link.id = 'export-download';
  link.hidden = true;
  panel.append('Evidence export ', profile, ' ', start, ' ', status, ' ', link);
  parent.append(panel);

  start.addEventListener('click', () => {
    const tenantId = tenant();
    if (!tenantId) return;
    start.disabled = true;
    link.hidden = true;
    status.className = '';
    void (async () => {
      try {
        const { requestEvidenceExport } = dataOf(
          await postGraphQL<{ requestEvidenceExport: ExportState }>(
            `mutation($input: EvidenceExportInput!) { requestEvidenceExport(input: $input) { ${EXPORT_FIELDS} } }`,
            { input: { tenantId, evidenceProfileId: profile.value } },
          ),
        );
        const done = await waitForExport(requestEvidenceExport.id, (state) => {
          status.textContent = `${state.state}: ${state.eventsDone} of ${state.toSequence - state.fromSequence + 1} events`;
        });
        if (done.state === 'failed' || !done.bundlePath) {
          status.className = 'verdict-bad';
          status.textContent = `export failed: ${done.error ?? 'no bundle'}`;
          return;
        }
        const { verifyChain } = dataOf(
          await postGraphQL<{ verifyChain: ChainVerdict }>(
            'query($t: ID!, $from: Int, $to: Int) { verifyChain(tenantId: $t, fromSequence: $from, toSequence: $to) { valid checked firstBadSequence reason } }',
            { t: tenantId, from: done.fromSequence, to: done.toSequence },
          ),
        );
        const response = await fetch(done.bundlePath, { headers: { authorization: authorization() ?? '' } });
        if (!response.ok) throw new Error(`bundle download: HTTP ${response.status}`);
        const bytes = await response.arrayBuffer();
        link.href = URL.createObjectURL(new Blob([bytes], { type: 'application/gzip' }));
        link.download = `${tenantId}-${done.id}.tar.gz`;
        link.textContent = `Download ${link.download} (${bytes.byteLength} bytes, sha256 ${(await sha256Hex(bytes)).slice(0, 16)}…)`;
        link.hidden = false;
        status.className = verifyChain.valid ? 'verdict-good' : 'verdict-bad';
        status.textContent = verifyChain.valid
          ? `verified by the server: sequences ${done.fromSequence}-${done.toSequence}, bundle ${done.bundleHash ?? ''}`
          : `server verification failed at sequence ${verifyChain.firstBadSequence}: ${verifyChain.reason}`;
      } catch (error) {
        status.className = 'verdict-bad';
        status.textContent = error instanceof Error ? error.message : String(error);
      } finally {
        start.disabled = false;
      }
    })();
  });
}
