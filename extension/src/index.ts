// agent-workbench's JupyterLab plugin: the "Agent runs" sidebar, run views in the main area, commands
// (palette, menus, a shortcut) and settings. Reads runs through the server extension (workbench/server).
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';
import { RunSummary } from './api';
import { RunsPanel, RunView } from './runs';

const PLUGIN = 'agent-workbench:plugin';
const ICON = new LabIcon({
  name: 'agent-workbench:runs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<circle cx="6" cy="5" r="2.5"/><circle cx="6" cy="19" r="2.5"/><circle cx="18" cy="12" r="2.5"/>' +
    '<path d="M5.2 7h1.6v10H5.2zM7.5 11.2h8v1.6h-8z"/></g></svg>'
});

function notebook(cells: string[]): object {
  return {
    cells: cells.map(source => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  };
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN,
  description: 'A runs browser over the agent-workbench run store, run views and commands.',
  autoStart: true,
  optional: [ICommandPalette, ISettingRegistry, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null
  ) => {
    let refreshSeconds = 2;
    const tracker = new WidgetTracker<MainAreaWidget<RunView>>({ namespace: 'agent-workbench-runs' });

    const openRun = (runId: string) => {
      const existing = tracker.find(w => w.content.runId === runId);
      if (existing) {
        app.shell.activateById(existing.id);
        return existing;
      }
      const view = new RunView(runId, refreshSeconds);
      view.openInNotebook.addEventListener('click', () =>
        void app.commands.execute('workbench:open-in-notebook', { runId })
      );
      const main = new MainAreaWidget({ content: view });
      main.id = `workbench-run-${runId}`;
      main.title.label = view.title.label;
      main.title.icon = ICON;
      void tracker.add(main);
      app.shell.add(main, 'main');
      app.shell.activateById(main.id);
      return main;
    };

    const panel = new RunsPanel((run: RunSummary) => openRun(run.id));
    panel.title.icon = ICON;
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, 'agent-workbench-runs-panel');

    const newNotebook = async (cells: string[]) => {
      const contents = app.serviceManager.contents;
      const model = await contents.newUntitled({ type: 'notebook' });
      await contents.save(model.path, { type: 'notebook', format: 'json', content: notebook(cells) });
      return app.commands.execute('docmanager:open', { path: model.path });
    };

    app.commands.addCommand('workbench:open-runs', {
      label: 'Agent Runs',
      caption: 'Show the stored agent runs',
      icon: ICON,
      execute: () => {
        app.shell.activateById(panel.id);
        return panel.refresh();
      }
    });
    app.commands.addCommand('workbench:open-run', {
      label: args => (args.runId ? `Open Agent Run ${args.runId}` : 'Open Agent Run'),
      execute: args => openRun(String(args.runId))
    });
    app.commands.addCommand('workbench:open-in-notebook', {
      label: 'Open Agent Run in a Notebook',
      execute: args => newNotebook(['%load_ext workbench', `%agent load ${String(args.runId)}`])
    });
    app.commands.addCommand('workbench:new-agent-notebook', {
      label: 'New Agent Notebook',
      caption: 'A notebook with an agent on the offline demo model',
      icon: ICON,
      execute: () =>
        newNotebook([
          '%load_ext workbench',
          '%agent new --env gridworld --model workbench/demo',
          '%agent step'
        ])
    });
    for (const [command, verb] of [
      ['workbench:step-agent', 'step'],
      ['workbench:run-agent', 'run'],
      ['workbench:pause-agent', 'pause']
    ]) {
      app.commands.addCommand(command, {
        label: `${verb[0].toUpperCase()}${verb.slice(1)} the Agent of This Notebook`,
        isEnabled: () => !!app.shell.currentWidget && 'sessionContext' in (app.shell.currentWidget as object),
        execute: () => {
          const current = app.shell.currentWidget as unknown as {
            sessionContext?: { session?: { kernel?: { requestExecute: (c: object) => unknown } } };
          };
          const kernel = current?.sessionContext?.session?.kernel;
          if (!kernel) {
            throw new Error('the active notebook has no kernel');
          }
          // silent: runs the magic without adding a cell or an execution count
          return kernel.requestExecute({ code: `%agent ${verb}`, silent: false, store_history: false });
        }
      });
    }
    if (palette) {
      const category = 'Agent Workbench';
      for (const command of [
        'workbench:open-runs',
        'workbench:new-agent-notebook',
        'workbench:step-agent',
        'workbench:run-agent',
        'workbench:pause-agent'
      ]) {
        palette.addItem({ command, category });
      }
    }
    if (settingRegistry) {
      void settingRegistry.load(PLUGIN).then(settings => {
        const apply = () => {
          refreshSeconds = Number(settings.get('refreshSeconds').composite) || 2;
          panel.refreshSeconds = refreshSeconds;
          panel.pageSize = Number(settings.get('pageSize').composite) || 100;
        };
        apply();
        settings.changed.connect(apply);
      });
    }
  }
};

export default plugin;
