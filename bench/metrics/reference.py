# Runs in: /usr/bin/python3 (numpy, scipy, nibabel), never in the product. An independent reference for
# core/metrics: the same definitions written with scipy.ndimage on the full image grid, the way medpy and
# MONAI compute them, plus the label maps and perturbed copies the comparison runs on.
#
#   reference.py prepare <Task04 folder> <out folder> [--cases N]
#       reads labelsTr, writes <out>/manifest.json and <out>/arrays.bin (uint8, i fastest) holding each
#       label map and its eroded, dilated, shifted and label-2-removed copies
#   reference.py measure <bundle folder> <results.json> [--repeats R] [--tau MM]
#       computes every metric of every pair with scipy and writes the values and the best wall time
import json
import os
import sys
import time

import nibabel
import numpy as np
from scipy.ndimage import binary_dilation, binary_erosion, distance_transform_edt, generate_binary_structure

FACES = generate_binary_structure(3, 1)
ANISOTROPIC_SPACING = [0.7, 1.3, 4.0]
TOLERANCE_SLACK = 1e-9
USAGE = (
    'usage: reference.py prepare <Task04 folder> <out folder> [--cases N]\n'
    '       reference.py measure <bundle folder> <results.json> [--repeats R] [--tau MM]\n'
)


def perturbations(labels):
    present = [int(v) for v in np.unique(labels) if v != 0]
    eroded = np.zeros_like(labels)
    dilated = np.zeros_like(labels)
    for value in present:
        eroded[binary_erosion(labels == value, structure=FACES, border_value=0)] = value
    # Lower labels first claim background voxels next to them; existing labels are never overwritten.
    dilated[:] = labels
    for value in present:
        grow = binary_dilation(labels == value, structure=FACES) & (dilated == 0)
        dilated[grow] = value
    shifted = np.zeros_like(labels)
    shifted[1:, :-1, 1:] = labels[:-1, 1:, :-1]
    missing = labels.copy()
    missing[missing == 2] = 0
    return {'eroded': eroded, 'dilated': dilated, 'shifted': shifted, 'missing_label_2': missing}


def prepare(data_folder, out_folder, cases):
    os.makedirs(out_folder, exist_ok=True)
    names = sorted(
        n for n in os.listdir(os.path.join(data_folder, 'labelsTr')) if n.endswith('.nii.gz') and not n.startswith('.')
    )
    if cases is not None:
        names = names[:cases]
    arrays = []
    pairs = []
    offset = 0
    with open(os.path.join(out_folder, 'arrays.bin'), 'wb') as out:

        def store(array):
            nonlocal offset
            raw = np.asarray(array, dtype=np.uint8).tobytes(order='F')
            out.write(raw)
            arrays.append({'offset': offset, 'length': len(raw)})
            offset += len(raw)
            return len(arrays) - 1

        for name in names:
            image = nibabel.load(os.path.join(data_folder, 'labelsTr', name))
            labels = np.rint(np.asarray(image.dataobj)).astype(np.uint8)
            shape = [int(s) for s in labels.shape]
            native = [float(z) for z in image.header.get_zooms()[:3]]
            case_id = name[: -len('.nii.gz')]
            reference = store(labels)
            for kind, predicted in perturbations(labels).items():
                prediction = store(predicted)
                for spacing in (native, ANISOTROPIC_SPACING):
                    pairs.append(
                        {
                            'case': case_id,
                            'perturbation': kind,
                            'shape': shape,
                            'spacing': spacing,
                            'reference': reference,
                            'prediction': prediction,
                        }
                    )
    with open(os.path.join(out_folder, 'manifest.json'), 'w') as f:
        json.dump({'labels': [1, 2], 'arrays': arrays, 'pairs': pairs}, f)


def percentile(values):
    return float(np.percentile(values, 95)) if len(values) > 0 else 0.0


def compare(reference, prediction, spacing, tau):
    spacing = np.asarray(spacing, dtype=np.float64)
    n_ref = int(reference.sum())
    n_pred = int(prediction.sum())
    both = int((reference & prediction).sum())
    voxel = float(np.prod(spacing))
    out = {'volumeReference': n_ref * voxel / 1000, 'volumePrediction': n_pred * voxel / 1000}
    if n_ref == 0 and n_pred == 0:
        out.update(dice=1.0, jaccard=1.0, sensitivity=1.0, precision=1.0, arvd=0.0)
        out.update(hd=0.0, hd95Pooled=0.0, hd95MaxDirected=0.0, assd=0.0, nsd=1.0)
        return out
    if n_ref == 0 or n_pred == 0:
        diagonal = float(np.sqrt(np.sum((np.asarray(reference.shape) * spacing) ** 2)))
        arvd = 100.0 if n_pred == 0 else 100.0 * n_pred
        out.update(dice=0.0, jaccard=0.0, sensitivity=0.0, precision=0.0, arvd=arvd)
        out.update(hd=diagonal, hd95Pooled=diagonal, hd95MaxDirected=diagonal, assd=diagonal, nsd=0.0)
        return out
    out.update(
        dice=2 * both / (n_ref + n_pred),
        jaccard=both / (n_ref + n_pred - both),
        sensitivity=both / n_ref,
        precision=both / n_pred,
        arvd=100 * abs(n_pred - n_ref) / n_ref,
    )
    ref_border = reference ^ binary_erosion(reference, structure=FACES, border_value=0)
    pred_border = prediction ^ binary_erosion(prediction, structure=FACES, border_value=0)
    pred_to_ref = distance_transform_edt(~ref_border, sampling=spacing)[pred_border]
    ref_to_pred = distance_transform_edt(~pred_border, sampling=spacing)[ref_border]
    pooled = np.concatenate([pred_to_ref, ref_to_pred])
    out.update(
        hd=float(pooled.max()),
        hd95Pooled=percentile(pooled),
        hd95MaxDirected=max(percentile(pred_to_ref), percentile(ref_to_pred)),
        assd=float(pooled.mean()),
        nsd=float(np.count_nonzero(pooled <= tau * (1 + TOLERANCE_SLACK)) / pooled.size),
    )
    return out


def measure(bundle, results_path, repeats, tau):
    with open(os.path.join(bundle, 'manifest.json')) as f:
        manifest = json.load(f)
    raw = np.fromfile(os.path.join(bundle, 'arrays.bin'), dtype=np.uint8)

    def array(index, shape):
        a = manifest['arrays'][index]
        return raw[a['offset'] : a['offset'] + a['length']].reshape(shape, order='F')

    loaded = [
        (array(p['reference'], p['shape']), array(p['prediction'], p['shape']), p['spacing'])
        for p in manifest['pairs']
    ]
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        results = []
        for reference, prediction, spacing in loaded:
            results.append(
                {str(label): compare(reference == label, prediction == label, spacing, tau) for label in manifest['labels']}
            )
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    with open(results_path, 'w') as f:
        json.dump({'seconds': best, 'tau': tau, 'results': results}, f)


def main(argv):
    if len(argv) < 3 or argv[0] not in ('prepare', 'measure'):
        sys.stderr.write(USAGE)
        return 2
    options = {argv[i]: argv[i + 1] for i in range(3, len(argv) - 1, 2)}
    if argv[0] == 'prepare':
        cases = options.get('--cases')
        prepare(argv[1], argv[2], int(cases) if cases is not None else None)
    else:
        measure(argv[1], argv[2], int(options.get('--repeats', '1')), float(options.get('--tau', '1')))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
