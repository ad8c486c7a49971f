// Runs in: any process. The ACDC challenge report: Dice and Hausdorff distance per structure and cardiac
// phase, and the clinical indices computed from volumes with their agreement with the ground truth.
import { pearson, summarise, type CaseMetrics, type Summary } from './aggregate.ts';

/** ACDC label values and the names the challenge reports them under. */
export const ACDC_STRUCTURES = { 1: 'RV', 2: 'Myo', 3: 'LV' } as const;
export type AcdcStructure = (typeof ACDC_STRUCTURES)[keyof typeof ACDC_STRUCTURES];
const STRUCTURE_NAMES: AcdcStructure[] = ['RV', 'Myo', 'LV'];

/** Myocardial tissue density in g/ml, the value the ACDC challenge uses for myocardial mass. */
export const MYOCARDIUM_DENSITY = 1.05;

export interface AcdcCase extends CaseMetrics {
  patient: string;
  phase?: 'ED' | 'ES';
}

export interface PhaseStructureSummary {
  dice: Summary;
  hd: Summary;
  hd95: Summary;
  assd: Summary;
}

export interface ClinicalValue {
  reference: number;
  prediction: number;
  /** prediction − reference. */
  error: number;
}

export const CLINICAL_INDICES = {
  lvEdv: 'ml',
  lvEsv: 'ml',
  lvEf: '%',
  rvEdv: 'ml',
  rvEsv: 'ml',
  rvEf: '%',
  myoMass: 'g',
} as const;
export type ClinicalIndex = keyof typeof CLINICAL_INDICES;

export interface PatientIndices {
  patient: string;
  indices: Record<ClinicalIndex, ClinicalValue>;
}

export interface IndexAgreement {
  unit: string;
  n: number;
  /** Pearson correlation of prediction and reference; null with fewer than two patients or no spread. */
  correlation: number | null;
  /** Mean of prediction − reference. */
  bias: number;
  /** Sample standard deviation of prediction − reference. */
  std: number;
  /** Bland-Altman limits of agreement, bias ± 1.96 std. */
  limitsOfAgreement: [number, number];
  meanAbsoluteError: number;
}

export interface AcdcReport {
  perPhase: Record<'ED' | 'ES', Record<AcdcStructure, PhaseStructureSummary>>;
  clinical: {
    definitions: string;
    perPatient: PatientIndices[];
    agreement: Record<ClinicalIndex, IndexAgreement>;
  };
  /** Cases whose phase is unknown: in the per-structure means, not in any per-phase figure. */
  casesWithoutPhase: string[];
  /** Patients lacking a labelled ED or ES case, so without clinical indices. */
  patientsWithoutBothPhases: string[];
}

const CLINICAL_DEFINITIONS =
  'Volumes are voxel count times voxel volume, in ml. EDV and ESV are the LV cavity (label 3) or RV cavity ' +
  '(label 1) volume at ED and ES; ejection fraction is 100·(EDV − ESV)/EDV, taken as 0 % when EDV is 0; ' +
  `myocardial mass is the ED myocardium (label 2) volume times ${MYOCARDIUM_DENSITY} g/ml.`;

function phaseSummary(cases: readonly AcdcCase[], name: AcdcStructure): PhaseStructureSummary {
  const rows = cases.flatMap((c) => (c.structures[name] ? [c.structures[name]] : []));
  return {
    dice: summarise(rows.map((r) => r.dice)),
    hd: summarise(rows.map((r) => r.hd)),
    hd95: summarise(rows.map((r) => r.hd95)),
    assd: summarise(rows.map((r) => r.assd)),
  };
}

function ejectionFraction(edv: number, esv: number): number {
  return edv > 0 ? (100 * (edv - esv)) / edv : 0;
}

function value(reference: number, prediction: number): ClinicalValue {
  return { reference, prediction, error: prediction - reference };
}

function patientIndices(patient: string, ed: AcdcCase, es: AcdcCase): PatientIndices | undefined {
  const lvEd = ed.structures.LV;
  const lvEs = es.structures.LV;
  const rvEd = ed.structures.RV;
  const rvEs = es.structures.RV;
  const myoEd = ed.structures.Myo;
  if (!lvEd || !lvEs || !rvEd || !rvEs || !myoEd) return undefined;
  return {
    patient,
    indices: {
      lvEdv: value(lvEd.volumeReference, lvEd.volumePrediction),
      lvEsv: value(lvEs.volumeReference, lvEs.volumePrediction),
      lvEf: value(
        ejectionFraction(lvEd.volumeReference, lvEs.volumeReference),
        ejectionFraction(lvEd.volumePrediction, lvEs.volumePrediction),
      ),
      rvEdv: value(rvEd.volumeReference, rvEd.volumePrediction),
      rvEsv: value(rvEs.volumeReference, rvEs.volumePrediction),
      rvEf: value(
        ejectionFraction(rvEd.volumeReference, rvEs.volumeReference),
        ejectionFraction(rvEd.volumePrediction, rvEs.volumePrediction),
      ),
      myoMass: value(myoEd.volumeReference * MYOCARDIUM_DENSITY, myoEd.volumePrediction * MYOCARDIUM_DENSITY),
    },
  };
}

function agreement(values: ClinicalValue[], unit: string): IndexAgreement {
  const errors = summarise(values.map((v) => v.error));
  const absolute = summarise(values.map((v) => Math.abs(v.error)));
  return {
    unit,
    n: values.length,
    correlation: pearson(
      values.map((v) => v.prediction),
      values.map((v) => v.reference),
    ),
    bias: errors.mean,
    std: errors.std,
    limitsOfAgreement: [errors.mean - 1.96 * errors.std, errors.mean + 1.96 * errors.std],
    meanAbsoluteError: absolute.mean,
  };
}

export function acdcReport(cases: readonly AcdcCase[]): AcdcReport {
  const perPhase = {} as AcdcReport['perPhase'];
  for (const phase of ['ED', 'ES'] as const) {
    const inPhase = cases.filter((c) => c.phase === phase);
    const byStructure = {} as Record<AcdcStructure, PhaseStructureSummary>;
    for (const name of STRUCTURE_NAMES) byStructure[name] = phaseSummary(inPhase, name);
    perPhase[phase] = byStructure;
  }
  const patients = [...new Set(cases.map((c) => c.patient))].sort();
  const perPatient: PatientIndices[] = [];
  const incomplete: string[] = [];
  for (const patient of patients) {
    const ed = cases.find((c) => c.patient === patient && c.phase === 'ED');
    const es = cases.find((c) => c.patient === patient && c.phase === 'ES');
    const indices = ed && es ? patientIndices(patient, ed, es) : undefined;
    if (indices) perPatient.push(indices);
    else incomplete.push(patient);
  }
  const agreements = {} as Record<ClinicalIndex, IndexAgreement>;
  for (const [index, unit] of Object.entries(CLINICAL_INDICES) as [ClinicalIndex, string][]) {
    agreements[index] = agreement(
      perPatient.map((p) => p.indices[index]),
      unit,
    );
  }
  return {
    perPhase,
    clinical: { definitions: CLINICAL_DEFINITIONS, perPatient, agreement: agreements },
    casesWithoutPhase: cases.filter((c) => c.phase === undefined).map((c) => c.id),
    patientsWithoutBothPhases: incomplete,
  };
}
