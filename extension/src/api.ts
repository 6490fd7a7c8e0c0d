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
