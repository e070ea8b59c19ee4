import { dataOf, postGraphQL } from '../shared/graphql-request';
import { authorization } from '../shared/token-store';

const PROFILES = ['ecs-evidence-baseline', 'ecs-evidence-admissible', 'ecs-evidence-ncp'] as const;
const EXPORT_FIELDS =
  'id state fromSequence toSequence eventsDone bundleHash merkleRoot kid error bundlePath verification { valid checks events failures }';

interface ExportState {
  id: string;
  state: string;
  fromSequence: number;
  toSequence: number;
  eventsDone: number;
  bundleHash: string | null;
  error: string | null;
  bundlePath: string | null;
  verification: BundleVerification | null;
}

/** The offline verifier's verdict on the bundle file, run by the audit plane when it wrote it. */
interface BundleVerification {
  valid: boolean;
  checks: number;
  events: number;
  failures: string[];
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

/** The verdict line: the offline verifier's, on the bundle file the audit plane wrote. */
function showVerdict(status: HTMLElement, done: ExportState): void {
  const verdict = done.verification;
  if (!verdict) {
    status.className = '';
    status.textContent = 'no verification verdict was kept for this export';
    return;
  }
  status.className = verdict.valid ? 'verdict-good' : 'verdict-bad';
  status.textContent = verdict.valid
    ? `bundle file verified by the server (ecs verify): ${verdict.checks} checks passed, ${verdict.events} events, bundle ${done.bundleHash ?? ''}`
    : `bundle file failed verification: ${verdict.failures.join('; ')}`;
}

/**
 * Starts an evidence export of the tenant's chain, waits for it, then downloads the bundle
 * (with the tab's token) and offers it as a file. The verdict shown is the offline
 * verifier's (`ecs verify --jwks`), which the audit plane ran on the bundle file it wrote,
 * with the service's published keys, before it completed the export.
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
        const response = await fetch(done.bundlePath, { headers: { authorization: authorization() ?? '' } });
        if (!response.ok) throw new Error(`bundle download: HTTP ${response.status}`);
        const bytes = await response.arrayBuffer();
        link.href = URL.createObjectURL(new Blob([bytes], { type: 'application/gzip' }));
        link.download = `${tenantId}-${done.id}.tar.gz`;
        link.textContent = `Download ${link.download} (${bytes.byteLength} bytes, sha256 ${(await sha256Hex(bytes)).slice(0, 16)}…)`;
        link.hidden = false;
        showVerdict(status, done);
      } catch (error) {
        status.className = 'verdict-bad';
        status.textContent = error instanceof Error ? error.message : String(error);
      } finally {
        start.disabled = false;
      }
    })();
  });
}
