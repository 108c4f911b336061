// A client of the node's RPC endpoint (`POST /rpc:distro:sys/message`), sending what kit's
// `inject_message::make_message` sends: serde_json's object with its keys in sorted order.

export interface RpcReply {
  status: number;
  /** the reply's body bytes as UTF-8 (kit's view) */
  body: string | undefined;
}

export async function rpc(port: number, process: string, body: string, opts: { expects?: number; data?: Uint8Array } = {}): Promise<RpcReply> {
  const message = {
    body,
    context: null,
    data: opts.data ? Buffer.from(opts.data).toString('base64') : null,
    expects_response: opts.expects ?? null,
    inherit: false,
    metadata: null,
    mime: 'application/octet-stream',
    node: null,
    process,
  };
  const res = await fetch(`http://127.0.0.1:${port}/rpc:distro:sys/message`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  const text = await res.text();
  if (res.status !== 200 || opts.expects === undefined) return { status: res.status, body: undefined };
  const j = JSON.parse(text) as { body: number[] };
  return { status: res.status, body: Buffer.from(j.body).toString('utf8') };
}
