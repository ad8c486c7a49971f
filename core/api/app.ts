// Runs in: any process. What the API says about the engine itself: which training backend it uses and why
// the others are unavailable, and the folder a user picked in a native dialog.

export interface BackendStatus {
  /** e.g. 'tensorflow-gpu', 'tensorflow', 'emonas-cpu', 'cpu'. */
  name: string;
  available: boolean;
  /** Why it is not available, in words a user can act on; absent when available. */
  reason?: string;
}

export interface DoctorReport {
  /** The backend training will use. */
  backend: string;
  /** Every backend considered, best first. */
  backends: BackendStatus[];
  engine: { version: string; node: string; platform: string; cpus: number; memoryGb: number };
}

export interface ChosenFolder {
  /** Absolute path, or null when the user closed the dialog. */
  folder: string | null;
}
