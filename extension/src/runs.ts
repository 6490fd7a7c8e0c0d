// The "Agent runs" sidebar (a live, searchable list of stored runs) and the main-area view of one run.
import { Widget } from '@lumino/widgets';
import { api, RunDetail, RunNode, RunsPage, RunSummary } from './api';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls = '',
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) {
    node.className = cls;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function when(seconds: number): string {
  const d = new Date(seconds * 1000);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function money(cost: number): string {
  return `$${(cost || 0).toFixed(4)}`;
}

/** Calls `tick` every `seconds` while `widget` is visible (and once when it shows). */
class Poller {
  private timer = 0;
  constructor(
    private widget: Widget,
    private tick: () => Promise<void>,
    public seconds: number
  ) {}
  start(): void {
    this.stop();
    const loop = async () => {
      if (this.widget.isDisposed) {
        return;
      }
      if (this.widget.isVisible) {
        await this.tick().catch(() => undefined);
      }
      this.timer = window.setTimeout(loop, this.seconds * 1000);
    };
    void loop();
  }
  stop(): void {
    window.clearTimeout(this.timer);
  }
}

export class RunsPanel extends Widget {
  readonly search = el('input', 'wb-runs-search');
  private readonly table = el('table', 'wb-runs-table');
  private readonly body = el('tbody');
  private readonly info = el('div', 'wb-runs-info');
  private readonly poller: Poller;
  pageSize = 100;

  constructor(private open: (run: RunSummary) => void) {
    super();
    this.id = 'workbench-runs';
    this.addClass('wb-runs');
    this.title.caption = 'Agent runs';
    this.search.type = 'search';
    this.search.placeholder = 'Search task or id';
    this.search.addEventListener('input', () => void this.refresh());
    const head = el('thead');
    const row = el('tr');
    for (const name of ['Run', 'Task', 'Model', 'Strategy', 'Outcome', 'Steps', 'Tokens', 'Cost']) {
      row.append(el('th', '', name));
    }
    head.append(row);
    this.table.append(head, this.body);
    const scroller = el('div', 'wb-runs-scroll');
    scroller.append(this.table);
    this.node.append(this.search, this.info, scroller);
    this.poller = new Poller(this, () => this.refresh(), 2);
    this.poller.start();
  }

  set refreshSeconds(seconds: number) {
    this.poller.seconds = seconds;
  }

  async refresh(): Promise<void> {
    const q = encodeURIComponent(this.search.value.trim());
    let page: RunsPage;
    try {
      page = await api<RunsPage>(`runs?limit=${this.pageSize}&q=${q}`);
    } catch (err) {
      this.info.textContent = `Cannot read the runs: ${(err as Error).message}`;
      return;
    }
    this.info.textContent = `${page.total} run${page.total === 1 ? '' : 's'} in ${page.store}`;
    this.info.title = page.store;
    const rows = page.runs.map(run => this.row(run));
    this.body.replaceChildren(...rows);
  }

  private row(run: RunSummary): HTMLTableRowElement {
    const tr = el('tr', 'wb-runs-row');
    tr.dataset.runId = run.id;
    tr.dataset.status = run.status;
    tr.title = `${run.task}\n${run.env} · ${run.memory} memory · ${when(run.created_at)}`;
    const outcome = run.status === 'running' ? 'running' : run.outcome || run.status;
    const cells = [
      run.id.slice(0, 8),
      run.task,
      run.model_label || run.model,
      run.strategy,
      outcome,
      String(run.steps),
      run.tokens.toLocaleString(),
      money(run.cost)
    ];
    cells.forEach((text, i) => {
      const td = el('td', i === 4 ? `wb-runs-outcome wb-status-${run.status}` : '', text);
      tr.append(td);
    });
    tr.addEventListener('click', () => this.open(run));
    return tr;
  }
}

export class RunView extends Widget {
  private readonly header = el('div', 'wb-run-header');
  private readonly cards = el('ol', 'wb-run-cards');
  private readonly more = el('button', 'jp-mod-styled wb-run-more', 'Load more steps');
  private readonly poller: Poller;
  private loaded = 0;
  private total = 0;
  readonly openInNotebook = el('button', 'jp-mod-styled jp-mod-accept wb-run-open-notebook', 'Open in notebook');

  constructor(readonly runId: string, refreshSeconds: number) {
    super();
    this.addClass('wb-run-view');
    this.id = `workbench-run-view-${runId}`;
    this.title.label = `Run ${runId.slice(0, 8)}`;
    this.title.closable = true;
    this.more.addEventListener('click', () => void this.load());
    this.node.append(this.header, this.cards, this.more);
    this.poller = new Poller(this, () => this.load(), refreshSeconds);
    this.poller.start();
  }

  /** Reads the run again: its header, and the next page of steps past the ones shown. */
  async load(): Promise<void> {
    let run: RunDetail;
    try {
      run = await api<RunDetail>(`runs/${this.runId}?offset=${this.loaded}&limit=200`);
    } catch (err) {
      this.header.textContent = `Cannot read run ${this.runId}: ${(err as Error).message}`;
      return;
    }
    this.renderHeader(run);
    for (const node of run.nodes) {
      this.cards.append(this.card(node));
    }
    this.loaded += run.nodes.length;
    this.total = run.node_count;
    this.more.hidden = this.loaded >= this.total;
    if (run.status !== 'running' && this.loaded >= this.total) {
      this.poller.stop();
    }
  }

  private renderHeader(run: RunDetail): void {
    const title = el('div', 'wb-run-title');
    title.append(el('b', '', run.env), document.createTextNode(` · “${run.task}”`));
    const config = el('div', 'wb-run-config', `${run.model_label || run.model} · ${run.strategy} · ${run.memory} memory`);
    const outcome = run.outcome ? ` · ${run.outcome}` : '';
    const state = el(
      'div',
      `wb-run-state wb-status-${run.status}`,
      `${run.status}${outcome} · ${run.steps} steps · ${run.node_count} nodes · ${run.tokens.toLocaleString()} tokens · ${money(run.cost)}`
    );
    state.dataset.status = run.status;
    const plan = el('ol', 'wb-run-plan');
    for (const item of run.plan || []) {
      plan.append(el('li', item.status === 'done' ? 'wb-done' : '', item.text));
    }
    this.header.replaceChildren(title, config, state, this.openInNotebook, ...(run.plan?.length ? [plan] : []));
  }

  private card(node: RunNode): HTMLLIElement {
    const li = el('li', `wb-run-card${node.error ? ' wb-run-error' : ''}`);
    li.dataset.nodeId = String(node.id);
    const head = el('div', 'wb-run-card-head', node.parent_id === null ? 'Start' : `#${node.id} · step ${node.depth}`);
    li.append(head);
    const field = (label: string, text: string, cls = '') => {
      if (!text) {
        return;
      }
      const row = el('div', 'wb-run-field');
      row.append(el('span', 'wb-run-label', label), el(cls === 'pre' ? 'pre' : 'span', 'wb-run-text', text));
      li.append(row);
    };
    field('Thought', node.thought);
    field('Action', node.action);
    field('Error', node.error || '');
    field('Obs', node.observation, 'pre');
    if (node.terminal) {
      field('Reward', String(node.reward));
    }
    return li;
  }
}
