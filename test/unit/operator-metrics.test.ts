import { closeReasonLabel } from '../../gateway/subscriptions/subscription-metrics';
import { OperationNames } from '../../lib/metrics/operation-names';

describe('OperationNames', () => {
  it('keeps well-formed names up to its bound, then labels the rest other', () => {
    const names = new OperationNames(2);
    expect(names.label('CreateTenant')).toBe('CreateTenant');
    expect(names.label('ListEvents')).toBe('ListEvents');
    expect(names.label('Third')).toBe('other');
    expect(names.label('CreateTenant')).toBe('CreateTenant');
  });

  it('labels anonymous operations and names that are not GraphQL names', () => {
    const names = new OperationNames();
    expect(names.label(undefined)).toBe('anonymous');
    expect(names.label('')).toBe('anonymous');
    expect(names.label('a"b')).toBe('other');
    expect(names.label('x'.repeat(101))).toBe('other');
  });
});

describe('closeReasonLabel', () => {
  it.each([
    [1000, 'normal'],
    [1001, 'going_away'],
    [4401, 'unauthenticated'],
    [4403, 'forbidden'],
    [4408, 'initialisation_timeout'],
    [4413, 'slow_consumer'],
    [4429, 'too_many_connections'],
    [4500, 'internal_error'],
    [4999, 'other'],
  ])('%i is %s', (code, label) => {
    expect(closeReasonLabel(code)).toBe(label);
  });
});
