// `emonas serve --token`: a token the user gives must be long enough to guard the engine, and is refused
// with a sentence before anything starts.
import { describe, expect, it } from 'vitest';
import { serveCommand } from '../../../core/cli/cmd-serve.ts';

describe('emonas serve --token', () => {
  it('refuses a short or odd token with a sentence saying what a token may be', async () => {
    for (const token of ['short', 'has spaces in it, 123456', 'x'.repeat(129)]) {
      await expect(serveCommand.run(['--token', token])).rejects.toMatchObject({
        code: 'bad_request',
        message: expect.stringContaining('16 to 128 letters, digits, dashes or underscores'),
      });
    }
  });
});
