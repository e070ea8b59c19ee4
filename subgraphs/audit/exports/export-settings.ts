import type { Producer } from '../../../lib/bundle/write-documents';
import type { ExportConfig } from '../../../lib/config/config';
import { PROFILES } from '../../../lib/bundle/profiles';
import { EXPORT_PROFILES } from '../../../lib/domain/evidence-profiles';

/** `producer_identity.producer_id` of the bundles this service writes. */
export const PRODUCER_ID = 'ecs-gateway-exporter';

/** The evidence profiles an export may declare (regulated-ML needs ML events this service does not emit). */
export { EXPORT_PROFILES } from '../../../lib/domain/evidence-profiles';
export type { ExportProfile } from '../../../lib/domain/evidence-profiles';

/** `implements.export_endpoints` of the bundles' profile claim. */
export const exportEndpoints: readonly string[] = ['/v1/events', '/v1/exports', '/v1/exports/{id}', '/v1/exports/{id}/bundle'];

/** What applies when a plane runs without a configuration (the defaults of lib/config). */
export const DEFAULT_EXPORT_SETTINGS: ExportConfig = {
  perPrincipal: 2,
  maxEvents: 10_000_000,
  pollIntervalMs: 2000,
  staleAfterMs: 60_000,
  providerId: 'ecs-provider',
};

export function producerOf(settings: Pick<ExportConfig, 'providerId'>): Producer {
  return { issuerId: settings.providerId, producerId: PRODUCER_ID };
}

// Every export profile is one the verifier knows.
for (const profile of EXPORT_PROFILES) if (!(profile in PROFILES)) throw new Error(`unknown evidence profile ${profile}`);
