import { writeSyntheticMsd } from '/work/main/test/unit/train/synthetic.ts';
await writeSyntheticMsd(process.argv[2]!, Number(process.argv[3] ?? 8), [12, 12, 12]);
