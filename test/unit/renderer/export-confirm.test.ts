// The review's exports ask before replacing a file: on the engine's `exists` error the user is asked
// "<file> exists. Replace it?", and only a yes sends the export again with overwrite.
import { describe, expect, it } from 'vitest';
import { fail, ok } from '../../../core/api/envelope.ts';
import { ReviewState } from '../../../renderer/src/review/review.svelte.ts';
import { FakeClient } from './fake-client.ts';

const FILE = '/home/me/report.html';

function reviewWithExistingReport(answer: boolean) {
  const client = new FakeClient({
    'report.export': (input) =>
      input.overwrite === true
        ? ok({ folder: '/home/me', files: [FILE] })
        : fail({ code: 'exists', message: `${FILE} already exists.`, file: FILE }),
  });
  const review = new ReviewState(client, 'run-a', 'c1');
  const questions: string[] = [];
  review.confirmReplace = (question) => {
    questions.push(question);
    return answer;
  };
  review.reportExport.path = FILE;
  return { client, review, questions };
}

describe('exporting over an existing file', () => {
  it('asks, and on yes exports again with overwrite', async () => {
    const { client, review, questions } = reviewWithExistingReport(true);
    await review.exportReport();
    expect(questions).toEqual([`${FILE} exists. Replace it?`]);
    expect(client.calls.map((c) => (c.input as { overwrite?: boolean }).overwrite)).toEqual([
      undefined,
      true,
    ]);
    expect(review.reportExport.done).toEqual({ folder: '/home/me', files: [FILE] });
    expect(review.reportExport.error).toBeNull();
  });

  it('on no, keeps the file and shows why nothing was written', async () => {
    const { client, review, questions } = reviewWithExistingReport(false);
    await review.exportReport();
    expect(questions).toHaveLength(1);
    expect(client.calls).toHaveLength(1);
    expect(review.reportExport.done).toBeNull();
    expect(review.reportExport.error).toMatchObject({ code: 'exists', file: FILE });
  });
});
