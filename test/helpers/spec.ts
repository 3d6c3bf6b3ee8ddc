/** Helper of the spec tests: the problems the spec checker names. */
import { parse } from 'yaml';
import { SpecError } from '../../src/spec/errors.js';
import { validateSpec } from '../../src/spec/spec.js';

/**
 * The problems of a spec, YAML text or an already parsed document (empty when it is valid).
 * @throws what `validateSpec` throws other than a SpecError.
 */
export function specProblems(spec: string | object): string[] {
  try {
    validateSpec(typeof spec === 'string' ? parse(spec) : spec);
    return [];
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
}
