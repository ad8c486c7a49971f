// Runs in: any process. The definition of every metric, in words, carried in every evaluation's JSON
// output and repeated in docs/metrics.md, so a number is never separated from what it means.
import type { Hd95Definition } from './surface-distance.ts';

export const METRIC_DEFINITIONS = {
  grid:
    'Every metric is computed on the ground truth’s native voxel grid; the prediction must lie on the same ' +
    'grid. Distances are in mm, each voxel axis scaled by its own spacing.',
  surface:
    'The surface of a mask is its border voxels: mask voxels with at least one face neighbour ' +
    '(6-neighbourhood) that is background or outside the image, i.e. mask XOR erosion(mask) with a ' +
    '6-connected structuring element, as medpy, MONAI and SimpleITK-based scripts use.',
  surfaceDistance:
    'The distance of a surface voxel of one mask to the other mask is the Euclidean distance between voxel ' +
    'centres to the nearest surface voxel of the other mask (so a voxel inside the other mask still has a ' +
    'distance to its surface).',
  hd: 'Hausdorff distance: the largest surface distance in either direction.',
  hd95Pooled:
    'HD95 (pooled, the default): the 95th percentile of the surface distances of both directions taken ' +
    'together, with linear interpolation between ranks (numpy.percentile), as medpy’s hd95 and the ' +
    'PROMISE12 papers use.',
  hd95MaxDirected:
    'HD95 (max-directed, on request): the larger of the two directed 95th percentiles, as MONAI’s ' +
    'compute_hausdorff_distance uses.',
  assd:
    'ASSD (PROMISE12’s average boundary distance): the mean of the surface distances of both directions ' +
    'taken together (sum over both surfaces divided by the number of surface voxels of both). medpy’s assd ' +
    'instead averages the two directed means; the two agree when both surfaces have as many voxels.',
  nsd:
    'Normalised surface Dice at tolerance tau: the number of surface voxels of both masks whose surface ' +
    'distance is at most tau mm, divided by the number of surface voxels of both (voxel-counting, as MONAI’s ' +
    'compute_surface_dice without sub-voxel surfaces).',
  overlap:
    'Dice 2|A∩B|/(|A|+|B|); Jaccard |A∩B|/|A∪B|; sensitivity |A∩B|/|reference|; precision ' +
    '|A∩B|/|prediction|; volumes in ml are voxel count times voxel volume; aRVD is 100·|Vpred − Vref|/Vref %.',
  aggregation:
    'Per structure over cases: mean, sample standard deviation (n − 1) and median, with n; every case ' +
    'counts, empty masks included, scored by the empty-mask policy.',
} as const;

export function hd95Definition(definition: Hd95Definition): string {
  return definition === 'pooled' ? METRIC_DEFINITIONS.hd95Pooled : METRIC_DEFINITIONS.hd95MaxDirected;
}
