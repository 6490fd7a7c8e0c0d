// Requests to the server extension's REST API (workbench/server), with Jupyter's token and XSRF handling.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface RunSummary {
  id: string;
  task: string;
  env: string;
  model: string;
  model_label: string;
  strategy: string;
  memory: string;
  steps: number;
  tokens: number;
  cost: number;
  status: string;
  outcome: string | null;
  created_at: number;
  updated_at: number;
}

export interface RunsPage {
  store: string;
  total: number;
  offset: number;
  runs: RunSummary[];
}

export interface RunNode {
  id: number;
  parent_id: number | null;
  depth: number;
  action: string;
  thought: string;
  observation: string;
  reward: number;
  terminal: boolean;
  status: string;
  error?: string | null;
}

export interface RunDetail extends RunSummary {
  node_count: number;
  offset: number;
  nodes: RunNode[];
  plan: { text: string; status?: string }[];
}

export async function api<T>(path: string): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'workbench', 'api', path);
  const response = await ServerConnection.makeRequest(url, {}, settings);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((body as { message?: string }).message || `${response.status} ${response.statusText}`);
  }
  return body as T;
}
