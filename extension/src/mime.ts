// The MIME renderer for application/vnd.agent-workbench.run+json: a run snapshot (the static fallback
// output of every Workbench panel and TreeView carries one) drawn by the widgets' own views, so a
// saved notebook reopened without a kernel shows the run; `.wbrun.json` files open as documents.
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { drawRun, MIME, RunDrawing, RunSnapshot } from './snapshot';

const FILE_TYPE = 'agent-workbench-run';

export class RunRenderer extends Widget implements IRenderMime.IRenderer {
  private drawing: RunDrawing | null = null;
  private runId = '';
  private data: RunSnapshot | null = null;
  private readonly observer: IntersectionObserver;
  private readonly box = document.createElement('div');

  constructor() {
    super();
    // `wb-fallback`: a live widget right above hides this output (widgets/static/fallback.css). The
    // run is drawn only while this output is displayed: next to a live widget it is not, so the
    // page holds one panel, not two.
    this.addClass('wb-run-renderer');
    this.box.className = 'wb-fallback';
    this.node.append(this.box);
    this.observer = new IntersectionObserver(() => this.sync(), { rootMargin: '600px' });
    this.observer.observe(this.node);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[MIME] as unknown as RunSnapshot | undefined;
    if (!data || typeof data !== 'object' || !data.header) {
      this.box.textContent = 'This is not an agent-workbench run snapshot.';
      return;
    }
    this.data = data;
    this.sync();
  }

  /** Draws (or updates) the run when this output is shown; drops the drawing when it is hidden. */
  private sync(): void {
    if (!this.node.isConnected) {
      return;
    }
    if (this.node.getClientRects().length === 0) {
      // display: none here or above: a live widget's CSS hides this output, or its tab is hidden
      this.drawing?.dispose();
      this.drawing = null;
      this.runId = '';
      return;
    }
    const data = this.data;
    if (!data) {
      return;
    }
    if (this.drawing && this.runId === data.run_id) {
      this.drawing.update(data); // update_display_data: the same run, later
      return;
    }
    this.drawing?.dispose();
    this.box.replaceChildren();
    this.runId = data.run_id;
    this.drawing = drawRun(this.box, data);
  }

  dispose(): void {
    this.observer.disconnect();
    this.drawing?.dispose();
    this.drawing = null;
    super.dispose();
  }
}

const extension: IRenderMime.IExtension = {
  id: 'agent-workbench:run-renderer',
  description: 'Shows saved agent-workbench runs (notebook outputs and .wbrun.json files).',
  rendererFactory: { safe: true, mimeTypes: [MIME], createRenderer: () => new RunRenderer() },
  rank: 40, // before text/html (the same output's static fallback), after live widget views (0)
  dataType: 'json',
  fileTypes: [
    {
      name: FILE_TYPE,
      displayName: 'Agent run',
      mimeTypes: [MIME],
      extensions: ['.wbrun.json'],
      fileFormat: 'text'
    }
  ],
  documentWidgetFactoryOptions: {
    name: 'Agent Run',
    primaryFileType: FILE_TYPE,
    fileTypes: [FILE_TYPE],
    defaultFor: [FILE_TYPE]
  }
};

export default extension;
