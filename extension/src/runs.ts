// The "Agent runs" sidebar (a live, searchable list of stored runs) and the main-area view of one run.
import { Widget } from '@lumino/widgets';
import { api, RunsPage, RunSummary } from './api';
import { drawRun, RunDrawing, RunSnapshot } from './snapshot';

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

/** Calls `tick` every `seconds` while `widget` is visible, and at once when it shows (`wake`), until
 * `stop`. A widget is not visible yet when it is made, so its owner calls `wake` from `onAfterShow`
 * and `onAfterAttach`: the first read does not wait for a period to pass. */
class Poller {
  private timer = 0;
  private active = false;
  private busy = false;
  constructor(
    private widget: Widget,
    private tick: () => Promise<void>,
    public seconds: number
  ) {}
  start(): void {
    this.active = true;
    this.wake();
  }
  /** Ticks now (unless a tick is under way or the poller is stopped), then every `seconds`. */
  wake(): void {
    if (!this.active || this.busy) {
      return;
    }
    window.clearTimeout(this.timer);
    void this.loop();
  }
  /** No more ticks, also when called from within `tick`. */
  stop(): void {
    this.active = false;
    window.clearTimeout(this.timer);
  }
  private async loop(): Promise<void> {
    if (this.widget.isDisposed || !this.active) {
      return;
    }
    if (this.widget.isVisible) {
      this.busy = true;
      await this.tick().catch(() => undefined);
      this.busy = false;
    }
    if (this.active && !this.widget.isDisposed) {
      this.timer = window.setTimeout(() => void this.loop(), this.seconds * 1000);
    }
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

  /** The refresh period (the user setting; also shown as `data-refresh-seconds` once applied). */
  set refreshSeconds(seconds: number) {
    this.poller.seconds = seconds;
    this.node.dataset.refreshSeconds = String(seconds);
  }

  protected onAfterAttach(): void {
    this.poller.wake();
  }

  protected onAfterShow(): void {
    this.poller.wake();
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

/** One run in the main area, read from the store with no kernel: the Workbench panel's own views
 * (header, trajectory cards, tree, usage; see snapshot.ts) over the server's snapshot of the run (its
 * head first, so a 10,000-node run's cards show before its tree is read), read again while it runs.
 * Model calls and off-path nodes are read per node when opened. */
export class RunView extends Widget {
  private readonly toolbar = el('div', 'wb-run-toolbar');
  private readonly info = el('span', 'wb-run-info');
  private readonly body = el('div', 'wb-run-body');
  private readonly poller: Poller;
  private drawing: RunDrawing | null = null;
  readonly openInNotebook = el('button', 'jp-mod-styled jp-mod-accept wb-run-open-notebook', 'Open in notebook');
  firstPaint = 0; // ms from the view's creation to the run drawn (read by benchmarks/extension_paint.py)
  private readonly created = performance.now();

  constructor(readonly runId: string, refreshSeconds: number) {
    super();
    this.addClass('wb-run-view');
    this.id = `workbench-run-view-${runId}`;
    this.title.label = `Run ${runId.slice(0, 8)}`;
    this.title.closable = true;
    this.toolbar.append(this.openInNotebook, this.info);
    this.node.append(this.toolbar, this.body);
    this.poller = new Poller(this, () => this.load(), refreshSeconds);
    this.poller.start();
  }

  /** Draws the run: the first time its snapshot's head (what the first paint shows, read without
   * the rest of the run), then the whole snapshot; read again while the run is running. */
  async load(): Promise<void> {
    if (!this.drawing) {
      const head = await this.read('?part=head');
      if (!head) {
        return;
      }
      this.draw(head);
    }
    const snapshot = await this.read('');
    if (!snapshot) {
      return;
    }
    this.draw(snapshot);
    if (snapshot.header.status !== 'running') {
      this.poller.stop();
    }
  }

  private async read(query: string): Promise<RunSnapshot | null> {
    try {
      const snapshot = await api<RunSnapshot>(`runs/${this.runId}/snapshot${query}`);
      this.info.textContent = '';
      return snapshot;
    } catch (err) {
      this.info.textContent = `Cannot read run ${this.runId}: ${(err as Error).message}`;
      return null;
    }
  }

  private draw(snapshot: RunSnapshot): void {
    const header = snapshot.header as { task?: string };
    this.title.caption = header.task || this.runId;
    if (this.drawing) {
      this.drawing.update(snapshot);
      return;
    }
    this.drawing = drawRun(this.body, snapshot, {
      calls: async (nodeId: number) => {
        const node = await api<{ llm_calls: RawCall[] }>(`runs/${this.runId}/nodes/${nodeId}`);
        return node.llm_calls.map(callDetails);
      },
      card: (nodeId: number) => api(`runs/${this.runId}/cards/${nodeId}`)
    });
    requestAnimationFrame(() => {
      this.firstPaint = performance.now() - this.created;
      this.node.dataset.firstPaint = String(Math.round(this.firstPaint));
    });
  }

  protected onAfterAttach(): void {
    this.poller.wake();
  }

  protected onAfterShow(): void {
    this.poller.wake();
  }

  dispose(): void {
    this.poller.stop();
    this.drawing?.dispose();
    super.dispose();
  }
}

interface RawCall {
  model?: string;
  purpose?: string;
  messages?: { role?: string; content?: unknown }[];
  response?: string;
  prompt_tokens?: number;
  completion_tokens?: number;
  cost?: number;
  latency?: number;
  attempts?: number;
  error?: string | null;
}

/** A stored call as the panel's "LLM call" drawer reads it (workbench/widgets/cards.py call_details). */
function callDetails(call: RawCall): object {
  const text = (content: unknown) => (typeof content === 'string' ? content : JSON.stringify(content));
  return {
    model: call.model || '',
    purpose: call.purpose || '',
    messages: (call.messages || []).map(m => ({ role: String(m.role || ''), content: text(m.content) })),
    response: call.response || '',
    prompt_tokens: call.prompt_tokens || 0,
    completion_tokens: call.completion_tokens || 0,
    cost: call.cost || 0,
    latency: call.latency || 0,
    attempts: call.attempts || 1,
    error: call.error || ''
  };
}
