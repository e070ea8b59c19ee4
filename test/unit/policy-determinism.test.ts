import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BASELINE_V1_TEXT } from '../../lib/policy/baseline-v1';
import { compilePolicy } from '../../lib/policy/compile-policy';
import { evaluateAdmission } from '../../lib/policy/evaluate-admission';
import { ADMISSION_CASES } from '../support/admission-cases';

describe('Cedar admission decisions (POL-02 determinism)', () => {
  const compiled = compilePolicy(BASELINE_V1_TEXT);
  if (!compiled.ok) throw new Error(compiled.errors.join('; '));
  const decide = () => ADMISSION_CASES.map((facts) => evaluateAdmission(compiled.compiled, facts));

  it('gives each rule its own reasons', () => {
    const codes = decide().map((decision) =>
      decision.decision === 'deny' ? decision.reasons.map((reason) => reason.reasonCode) : decision.decision,
    );
    expect(codes).toEqual([
      'allow',
      ['tenant_not_active'],
      ['jurisdiction_outside_tenant'],
      ['classification_above_ceiling'],
      ['registry_not_allowed'],
      ['image_not_pinned'],
      ['vm_envelope_required'],
      [
        'classification_above_ceiling',
        'image_not_pinned',
        'jurisdiction_outside_tenant',
        'registry_not_allowed',
        'tenant_not_active',
        'vm_envelope_required',
      ],
    ]);
  });

  it('decides the same with the schema and policies parsed once (stateful) as parsed per call', () => {
    const stateful = ADMISSION_CASES.map((facts) => evaluateAdmission(compiled.compiled, facts, 'polsnap:test-determinism'));
    expect(JSON.stringify(stateful)).toBe(JSON.stringify(decide()));
  });

  it('decides the same inputs identically 200 times and in another process', () => {
    const reference = JSON.stringify(decide());
    for (let run = 0; run < 200; run += 1) expect(JSON.stringify(decide())).toBe(reference);
    const root = path.resolve(__dirname, '..', '..');
    const other = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'test/support/evaluate-worker.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(other.status).toBe(0);
    expect(other.stdout.trim()).toBe(reference);
  });
});
