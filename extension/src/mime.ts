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

  constructor() {
    super();
    // `wb-fallback`: a live widget right above hides this output (widgets/static/fallback.css)
    this.addClass('wb-run-renderer');
    this.addClass('wb-fallback');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[MIME] as unknown as RunSnapshot | undefined;
    if (!data || typeof data !== 'object' || !data.header) {
      this.node.textContent = 'This is not an agent-workbench run snapshot.';
      return;
    }
    if (this.drawing && this.runId === data.run_id) {
      this.drawing.update(data); // update_display_data: the same run, later
      return;
    }
    this.drawing?.dispose();
    this.node.replaceChildren();
    this.runId = data.run_id;
    this.drawing = drawRun(this.node, data);
  }

  dispose(): void {
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
