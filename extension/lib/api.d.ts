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
    plan: {
        text: string;
        status?: string;
    }[];
}
export declare function api<T>(path: string): Promise<T>;
