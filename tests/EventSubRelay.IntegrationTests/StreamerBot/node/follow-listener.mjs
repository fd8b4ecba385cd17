// Connects to the relay's Streamer.bot endpoint with the official client, as a widget would, and prints
// one JSON line per thing the test waits for: "connected", "subscribed", then every Twitch.Follow frame.
import { StreamerbotClient } from '@streamerbot/client';

const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');

const client = new StreamerbotClient({
  host: '127.0.0.1',
  port: Number(process.env.RELAY_PORT),
  endpoint: '/streamerbot',
  password: process.env.RELAY_TOKEN,
  subscribe: { Twitch: ['Follow'] },
  logLevel: 'none',
  onConnect: (info) => print({ kind: 'connected', name: info.name }),
  onError: (error) => print({ kind: 'error', message: String(error?.message ?? error) }),
  onData: (payload) => {
    // The relay answers Subscribe with the socket's set (just Follow); GetEvents lists every type.
    const twitch = payload?.status === 'ok' ? payload.events?.Twitch : undefined;
    if (Array.isArray(twitch) && twitch.length === 1 && twitch[0] === 'Follow') {
      print({ kind: 'subscribed' });
    }
  },
});

client.on('Twitch.Follow', ({ event, data, eventSubRelay }) => print({ kind: 'follow', event, data, id: eventSubRelay?.id }));

const broadcaster = await new Promise((resolve) => {
  const poll = setInterval(() => {
    if (client.authenticated) {
      clearInterval(poll);
      resolve(client.getBroadcaster());
    }
  }, 20);
});
print({ kind: 'broadcaster', id: broadcaster.platforms?.twitch?.broadcastUserId });
