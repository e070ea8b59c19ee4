// Evaluates fixed admission facts against ecs-baseline-v1 in a separate process and prints
// the decisions as JSON (used by the determinism test).
import { BASELINE_V1_TEXT } from '../../lib/policy/baseline-v1';
import { compilePolicy } from '../../lib/policy/compile-policy';
import { evaluateAdmission } from '../../lib/policy/evaluate-admission';
import { ADMISSION_CASES } from './admission-cases';

const compiled = compilePolicy(BASELINE_V1_TEXT);
if (!compiled.ok) throw new Error(compiled.errors.join('; '));
console.log(JSON.stringify(ADMISSION_CASES.map((facts) => evaluateAdmission(compiled.compiled, facts))));
