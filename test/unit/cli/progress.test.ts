import { afterEach, describe, expect, it, vi } from 'vitest';
import { SearchDisplay } from '../../../core/cli/cmd-search.ts';
import { ProgressBar } from '../../../core/cli/progress.ts';
import type { StudyEvent } from '../../../core/runs/study.ts';

/** A non-terminal stream that keeps the lines written to it. */
function captured(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = {
    isTTY: false,
    write: (text: string) => {
      lines.push(text.trimEnd());
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ProgressBar ETA', () => {
  it('says unknown before the first item, then extrapolates from the items done', () => {
    vi.useFakeTimers();
    const { stream, lines } = captured();
    const bar = new ProgressBar({ label: 'Runs', total: 4, stream, quietInterval: 0 });
    bar.update(0, 'first');
    vi.advanceTimersByTime(60_000);
    bar.update(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('0/4 0m00s elapsed, ETA unknown  first');
    expect(lines[1]).toContain('1/4 1m00s elapsed, ETA 3m00s');
  });

  it('announces a new phase at once, where an update within the quiet interval is dropped', () => {
    vi.useFakeTimers();
    const { stream, lines } = captured();
    const bar = new ProgressBar({ label: 'Runs', total: 2, stream, quietInterval: 30_000 });
    bar.update(0, 'searching');
    vi.advanceTimersByTime(1_000);
    bar.update(0, 'still searching');
    bar.announce('training the final network');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('searching');
    expect(lines[1]).toContain('0/2 0m01s elapsed');
    expect(lines[1]).toContain('training the final network');
  });

  it('counts down from the expected time until the first item is done', () => {
    vi.useFakeTimers();
    const { stream, lines } = captured();
    const bar = new ProgressBar({ label: 'Runs', total: 3, stream, quietInterval: 0, expectedSeconds: 3600 });
    vi.advanceTimersByTime(600_000);
    bar.update(0);
    vi.advanceTimersByTime(3_600_000);
    bar.update(0);
    bar.finish();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('ETA 50m00s');
    expect(lines[1]).toContain('ETA 0m00s');
    expect(lines[2]).toContain('3/3 1h10m elapsed, ETA 0m00s');
  });

  it('never runs past a time budget, and starts from it', () => {
    vi.useFakeTimers();
    const { stream, lines } = captured();
    const bar = new ProgressBar({
      label: 'Searching',
      total: 40,
      stream,
      quietInterval: 0,
      budgetSeconds: 540,
    });
    bar.update(0);
    vi.advanceTimersByTime(120_000);
    // 2 of 40 in 2 minutes extrapolates to 38 more minutes; the budget ends the search in 7.
    bar.update(2);
    vi.advanceTimersByTime(600_000);
    bar.update(3);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('ETA 9m00s');
    expect(lines[1]).toContain('ETA 7m00s');
    expect(lines[2]).toContain('ETA 0m00s');
  });

  it("counts a demo's search budget from the search's start, preparation included", () => {
    vi.useFakeTimers();
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      written.push(String(text));
      return true;
    });
    try {
      const display = new SearchDisplay(24, 540);
      // Two minutes of reading and preprocessing the data before the first candidate starts.
      vi.advanceTimersByTime(120_000);
      display.onEvent({ type: 'candidate.started', id: 'g0-c0', generation: 0 } as StudyEvent);
    } finally {
      vi.mocked(process.stderr.write).mockRestore();
    }
    const bars = written.filter((line) => line.includes('Searching'));
    expect(bars).toHaveLength(1);
    expect(bars[0]).toContain('0/24 2m00s elapsed, ETA 7m00s');
  });
});
