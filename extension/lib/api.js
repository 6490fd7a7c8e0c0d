// Requests to the server extension's REST API (workbench/server), with Jupyter's token and XSRF handling.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
export async function api(path) {
    const settings = ServerConnection.makeSettings();
    const url = URLExt.join(settings.baseUrl, 'workbench', 'api', path);
    const response = await ServerConnection.makeRequest(url, {}, settings);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
        throw new Error(body.message || `${response.status} ${response.statusText}`);
    }
    return body;
}
