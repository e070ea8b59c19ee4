import type { AdmissionFacts } from '../../lib/policy/evaluate-admission';

const base: AdmissionFacts = {
  caller: 'alice',
  tenant: { id: 'acme', status: 'active', jurisdiction: 'EU', ceilingLevel: 2 },
  workload: {
    id: 'w-1',
    envelope: 'container',
    registry: 'registry.example.eu',
    pinned: true,
    level: 1,
    jurisdiction: 'DE',
    withinTenantJurisdiction: true,
  },
};

/** Admission facts covering every rule of ecs-baseline-v1, alone and combined. */
export const ADMISSION_CASES: AdmissionFacts[] = [
  base,
  { ...base, tenant: { ...base.tenant, status: 'suspended' } },
  { ...base, workload: { ...base.workload, withinTenantJurisdiction: false, jurisdiction: 'US' } },
  { ...base, workload: { ...base.workload, level: 3, envelope: 'vm' } },
  { ...base, workload: { ...base.workload, registry: 'docker.io' } },
  { ...base, workload: { ...base.workload, level: 2, pinned: false, envelope: 'vm' } },
  { ...base, workload: { ...base.workload, level: 2 } },
  {
    ...base,
    tenant: { ...base.tenant, status: 'deleted' },
    workload: { ...base.workload, level: 3, pinned: false, registry: 'quay.io', withinTenantJurisdiction: false },
  },
];
