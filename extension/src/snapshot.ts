// The widgets' own views (generated from workbench/widgets/static by scripts/shared.mjs) drawing a run
// snapshot: used by the MIME renderer (mime.ts) and the run view of the runs browser (runs.ts).
import panel from './shared/panel';
import { renderRun } from './shared/run';
import tree from './shared/tree';

export const MIME = 'application/vnd.agent-workbench.run+json';

/** What a snapshot holds (workbench/widgets/snapshot.py); the views read the rest. */
export interface RunSnapshot {
  run_id: string;
  header: { status?: string; task?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Source {
  calls?: (nodeId: number) => Promise<unknown[]>;
  card?: (nodeId: number) => Promise<unknown>;
}

export interface RunDrawing {
  update(snapshot: RunSnapshot): void;
  dispose(): void;
}

/** Draws `snapshot` into `el` with the Workbench panel (its Tree tab the TreeView) and returns a handle. */
export function drawRun(el: HTMLElement, snapshot: RunSnapshot, source?: Source): RunDrawing {
  return renderRun({ el, snapshot, panel: panel.render, tree: tree.render, source }) as RunDrawing;
}
