// Runs in: any process. The ACDC per-patient Info.cfg: `key: value` lines (ED, ES, Group, Height, NbFrame,
// Weight), where ED and ES are 1-based frame numbers matching the `frameYY` suffix of the frame files.

export interface AcdcInfo {
  /** Every key as written, values trimmed. */
  values: Record<string, string>;
  ed?: number;
  es?: number;
  nbFrame?: number;
}

export function parseInfoCfg(text: string): AcdcInfo {
  const values: Record<string, string> = {};
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const key = raw.slice(0, colon).trim();
    if (key !== '') values[key] = raw.slice(colon + 1).trim();
  }
  const info: AcdcInfo = { values };
  const ed = frameNumber(values['ED']);
  const es = frameNumber(values['ES']);
  const nbFrame = frameNumber(values['NbFrame']);
  if (ed !== undefined) info.ed = ed;
  if (es !== undefined) info.es = es;
  if (nbFrame !== undefined) info.nbFrame = nbFrame;
  return info;
}

/** A positive whole number, written "12" or "12.0". */
function frameNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.0*)?$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}
