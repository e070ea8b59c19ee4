import './js-wasm-inlining';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { CEDAR_SCHEMA, POLICY_REASON_CLASSES } from './cedar-schema';

export interface PolicyMeta {
  effect: 'permit' | 'forbid';
  reasonClass: string | undefined;
  reasonCode: string | undefined;
}

/** A policy set that parsed, validated against the schema, and is ready to evaluate. */
export interface CompiledPolicy {
  policies: Record<string, string>;
  meta: Record<string, PolicyMeta>;
}

export type CompileResult = { ok: true; compiled: CompiledPolicy } | { ok: false; errors: string[] };

function messages(errors: Array<{ message: string; help?: string | null }>): string[] {
  return errors.map((error) => (error.help ? `${error.message} (${error.help})` : error.message));
}

/**
 * Parses a Cedar policy set, validates it (strict mode) against the ECS schema, and
 * requires every policy to carry `@id`, and every `forbid` a `@reason_class` and
 * `@reason_code`, so each refusal can be explained. Errors are Cedar's own messages.
 */
export function compilePolicy(text: string): CompileResult {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') return { ok: false, errors: messages(parts.errors) };
  if (parts.policy_templates.length > 0) return { ok: false, errors: ['policy templates are not supported'] };
  if (parts.policies.length === 0) return { ok: false, errors: ['the policy set is empty'] };
  const policies: Record<string, string> = {};
  const meta: Record<string, PolicyMeta> = {};
  const errors: string[] = [];
  for (const policy of parts.policies) {
    const json = cedar.policyToJson(policy);
    if (json.type === 'failure') {
      errors.push(...messages(json.errors));
      continue;
    }
    const annotations = json.json.annotations ?? {};
    const id = annotations.id;
    if (!id) {
      errors.push(`every policy needs an @id annotation: ${policy.slice(0, 60)}...`);
      continue;
    }
    if (policies[id]) errors.push(`@id("${id}") is used twice`);
    const effect = json.json.effect;
    if (effect === 'forbid') {
      const reasonClass = annotations.reason_class;
      if (!reasonClass || !(POLICY_REASON_CLASSES as readonly string[]).includes(reasonClass)) {
        errors.push(`forbid policy "${id}" needs @reason_class, one of ${POLICY_REASON_CLASSES.join(', ')}`);
      }
      if (!annotations.reason_code || !/^[a-z][a-z0-9_]{2,63}$/.test(annotations.reason_code)) {
        errors.push(`forbid policy "${id}" needs @reason_code in snake_case`);
      }
    }
    policies[id] = policy;
    meta[id] = { effect, reasonClass: annotations.reason_class, reasonCode: annotations.reason_code };
  }
  if (errors.length > 0) return { ok: false, errors };
  const validation = cedar.validate({
    schema: CEDAR_SCHEMA,
    policies: { staticPolicies: policies },
    validationSettings: { mode: 'strict' },
  });
  if (validation.type === 'failure') return { ok: false, errors: messages(validation.errors) };
  if (validation.validationErrors.length > 0) {
    return { ok: false, errors: validation.validationErrors.map((error) => `${error.policyId}: ${messages([error.error])[0]}`) };
  }
  return { ok: true, compiled: { policies, meta } };
}
