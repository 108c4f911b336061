// The local peer servers of components/clients/peers.mjs (a Node HTTP server, a `ws` server,
// the Python websockets server of the book's ws-client example), typed for the tests.

export interface HttpServerFixture {
  port: number;
  url: string;
  requests: Map<string, number>;
  readonly held: number;
  close(): Promise<void>;
}
export interface WsEvent {
  kind: string;
  path: string;
  data?: Buffer;
  code?: number;
  headers?: Record<string, string>;
}
export interface WsServerFixture {
  port: number;
  url: string;
  events: WsEvent[];
  connections: Set<{ path: string; closed: boolean }>;
  close(): Promise<void>;
}
export interface PythonWsServer {
  port: number;
  url: string;
  output: string[];
  exited: Promise<number | null>;
  close(): Promise<void>;
}
export interface Peers {
  startHttpServer(): Promise<HttpServerFixture>;
  startWsServer(): Promise<WsServerFixture>;
  startPythonWsServer(): Promise<PythonWsServer>;
  pythonWebsocketsAvailable(): boolean;
  FILE_TEXT: string;
}

export const servers = (await import(new URL('../../components/clients/peers.mjs', import.meta.url).href)) as Peers;
