// Runs in: any process. What every metric is when a structure is absent from the reference, the
// prediction or both: always a number, and missing a structure always scores worse than finding it.

/** Which of the two masks of one structure are empty. */
export type EmptyStatus = 'none' | 'both' | 'reference' | 'prediction';

/** Carried in every evaluation's JSON output so a reader knows how absent structures were scored. */
export const EMPTY_MASK_POLICY = {
  bothEmpty:
    'Reference and prediction both empty: Dice, Jaccard, sensitivity, precision and surface Dice 1; ' +
    'HD, HD95 and ASSD 0 mm; aRVD 0 %. The case is kept in every mean.',
  oneEmpty:
    'Exactly one of reference and prediction empty: Dice, Jaccard, sensitivity, precision and surface ' +
    "Dice 0; HD, HD95 and ASSD equal to the image's physical diagonal (the diagonal of voxel count times " +
    'spacing, longer than any distance inside the image, so missing a structure scores worse than any ' +
    'found one). aRVD is 100 % for an empty prediction; for an empty reference the reference volume is ' +
    'taken as one voxel, so aRVD is 100 % times the number of predicted voxels. The case is kept in ' +
    'every mean.',
  neverNaN: 'No metric is ever NaN or infinite; no case is ever left out of a mean.',
} as const;
