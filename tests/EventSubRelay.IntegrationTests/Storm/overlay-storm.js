// Many overlay clients at once, with the official @microsoft/signalr client under Node.
// Input (stdin, one JSON object): { "clients": [{ "url": "...", "token": "..." }, ...] }
// Output (stdout, one JSON object a line):
//   {"s": i, "at": ms}                        when client i has subscribed
//   {"subscribed": n, "failed": n}           once every client has connected and subscribed (or failed)
//   {"c": i, "id": "...", "seq": n, "at": ms} for every event a client receives (at: Unix ms on arrival)
// The process ends when stdin closes after the input; it stops every connection first.
const signalR = require("@microsoft/signalr");

function readInput() {
  return new Promise((resolve) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => {
      text += chunk;
      const end = text.indexOf("\n");
      if (end >= 0) {
        resolve(JSON.parse(text.slice(0, end)));
      }
    });
  });
}

function write(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

async function main() {
  const input = await readInput();
  const connections = input.clients.map((client, i) => {
    const connection = new signalR.HubConnectionBuilder()
      .withUrl(client.url, { accessTokenFactory: () => client.token, transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true })
      .configureLogging(signalR.LogLevel.None)
      .build();
    connection.serverTimeoutInMilliseconds = 60000;
    connection.on("event", (e) => write({ c: i, id: e.id, seq: e.seq, at: Date.now() }));
    return connection;
  });

  // All at once, as when every browser source of a restarted relay reconnects.
  const results = await Promise.allSettled(connections.map(async (connection, i) => {
    await connection.start();
    await connection.invoke("Subscribe", ["*"]);
    write({ s: i, at: Date.now() });
  }));
  const failed = results.filter((r) => r.status === "rejected");
  const reasons = new Map();
  for (const failure of failed) {
    const reason = String(failure.reason);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  for (const [reason, count] of reasons) {
    process.stderr.write(`${count} clients failed: ${reason}\n`);
  }
  write({ subscribed: results.length - failed.length, failed: failed.length });

  process.stdin.on("end", async () => {
    await Promise.allSettled(connections.map((c) => c.stop()));
    process.exit(0);
  });
}

main().catch((error) => {
  process.stderr.write(String(error) + "\n");
  process.exit(1);
});
