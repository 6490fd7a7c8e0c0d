import { Widget } from '@lumino/widgets';
import { RunSummary } from './api';
export declare class RunsPanel extends Widget {
    private open;
    readonly search: HTMLInputElement;
    private readonly table;
    private readonly body;
    private readonly info;
    private readonly poller;
    pageSize: number;
    constructor(open: (run: RunSummary) => void);
    set refreshSeconds(seconds: number);
    refresh(): Promise<void>;
    private row;
}
export declare class RunView extends Widget {
    readonly runId: string;
    private readonly header;
    private readonly cards;
    private readonly more;
    private readonly poller;
    private loaded;
    private total;
    readonly openInNotebook: HTMLButtonElement;
    constructor(runId: string, refreshSeconds: number);
    /** Reads the run again: its header, and the next page of steps past the ones shown. */
    load(): Promise<void>;
    private renderHeader;
    private card;
}
