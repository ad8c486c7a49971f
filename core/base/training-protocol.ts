// Runs in: any process. The training protocol a user chooses: 'emonas', this project's training (the
// default), or 'reference', the authors' implementation as method.md sections 5 and 6 describe it. Here so
// that the contract (core/api), the search configuration (core/search) and the training (core/train) name
// and check it alike; what each protocol trains with is core/train/setup/protocol.ts.

export const TRAINING_PROTOCOLS = ['emonas', 'reference'] as const;

export type TrainingProtocol = (typeof TRAINING_PROTOCOLS)[number];

export const DEFAULT_PROTOCOL: TrainingProtocol = 'emonas';

export function isTrainingProtocol(value: unknown): value is TrainingProtocol {
  return (TRAINING_PROTOCOLS as readonly unknown[]).includes(value);
}

/** Why `value` is no protocol, as a sentence naming where it was given (null: it is one). */
export function protocolProblem(value: unknown, where: string): string | null {
  if (isTrainingProtocol(value)) return null;
  return (
    `${where} is ${JSON.stringify(value)}; use 'emonas' (this project's training, the default) or ` +
    `'reference' (the authors' crops, augmentation, validation, final training and evaluation, method.md sections 5 and 6).`
  );
}
