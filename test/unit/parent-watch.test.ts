import { startedByPackageScript, watchParent } from '../../app/parent-watch';

describe('watchParent', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('calls back once when the process is re-parented, not before', () => {
    let parent = 100;
    const orphaned = jest.fn();
    watchParent(orphaned, () => parent);

    jest.advanceTimersByTime(5_000);
    expect(orphaned).not.toHaveBeenCalled();
    parent = 1;
    jest.advanceTimersByTime(1_000);
    expect(orphaned).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(5_000);
    expect(orphaned).toHaveBeenCalledTimes(1);
  });

  it('stops watching when asked', () => {
    let parent = 100;
    const orphaned = jest.fn();
    const stop = watchParent(orphaned, () => parent);
    stop();
    parent = 1;
    jest.advanceTimersByTime(5_000);
    expect(orphaned).not.toHaveBeenCalled();
  });
});

describe('startedByPackageScript', () => {
  it('recognises a package.json script by the lifecycle event npm sets', () => {
    expect(startedByPackageScript({ npm_lifecycle_event: 'start' })).toBe(true);
    expect(startedByPackageScript({})).toBe(false);
  });
});
