// EventSubRelay's default alert overlay. Settings come from the URL fragment, which browsers never send
// to the server: #token=<overlay token>&types=Follow,Cheer&duration=5000&duration.Raid=8000
(() => {
  "use strict";

  const settings = new URLSearchParams(location.hash.slice(1));
  const token = settings.get("token") ?? "";
  const types = (settings.get("types") ?? "*").split(",").map(t => t.trim()).filter(t => t.length > 0);
  const defaultDuration = Number(settings.get("duration") ?? 5000);
  const gap = Number(settings.get("gap") ?? 500);
  const durationOf = type => Number(settings.get(`duration.${type}`) ?? defaultDuration);

  // The last alert shown survives a reload of the browser source, so a reload resumes where it stopped.
  // A page opened for the first time starts at the newest stored event: it shows new alerts, not history.
  const storageKey = `eventsubrelay.lastShownSeq.${hash(token)}`;
  const stored = localStorage.getItem(storageKey);
  let lastShownSeq = Number(stored ?? 0);
  let lastReceivedSeq = lastShownSeq;
  let resumable = stored !== null;

  const alertElement = document.getElementById("alert");
  const statusElement = document.getElementById("status");
  const noticeElement = document.getElementById("notice");
  const noticeSeconds = Number(settings.get("notice") ?? 6);
  const queue = [];
  const seen = new Set();
  const seenOrder = [];
  let showing = false;
  window.__shown = [];

  const connection = new signalR.HubConnectionBuilder()
    .withUrl("/hubs/overlay", { accessTokenFactory: () => token })
    .withAutomaticReconnect({
      nextRetryDelayInMilliseconds: context => {
        explain(context.retryReason);
        return backoff(context.previousRetryCount);
      },
    })
    .build();

  connection.on("event", receive);
  connection.onreconnecting(() => setConnected(false));
  connection.onreconnected(async () => {
    try {
      await subscribe();
      setConnected(true);
    } catch {
      await connection.stop();
    }
  });
  // The retry policy never gives up, so a close means start() failed part-way or the server ended it: start over.
  connection.onclose(() => {
    setConnected(false);
    start();
  });

  start();

  async function start() {
    for (let attempt = 0; ; attempt++) {
      try {
        if (connection.state === signalR.HubConnectionState.Disconnected) {
          await connection.start();
        }
        await subscribe();
        setConnected(true);
        return;
      } catch (error) {
        setConnected(false);
        explain(error);
        if (connection.state !== signalR.HubConnectionState.Disconnected) {
          return; // onclose will start again
        }
        await delay(backoff(attempt));
      }
    }
  }

  // Resume before subscribing: the relay then sends what was missed first, in order, and live events after.
  async function subscribe() {
    if (!resumable) {
      const newest = await connection.invoke("GetRecentEvents", 1, null);
      lastShownSeq = lastReceivedSeq = newest.length > 0 ? newest[0].seq : 0;
      localStorage.setItem(storageKey, String(lastShownSeq));
      resumable = true;
    }
    await connection.invoke("Resume", lastReceivedSeq);
    await connection.invoke("Subscribe", types);
  }

  function receive(envelope) {
    if (seen.has(envelope.id)) {
      return;
    }
    seen.add(envelope.id);
    seenOrder.push(envelope.id);
    if (seenOrder.length > 2000) {
      seen.delete(seenOrder.shift());
    }
    lastReceivedSeq = Math.max(lastReceivedSeq, envelope.seq);
    // A recipient's gifted sub is part of a gift already shown (GiftBomb, or the gifter's GiftSub).
    if (envelope.event.type === "GiftSub" && envelope.data.fromSubBomb) {
      return;
    }
    queue.push(envelope);
    showNext();
  }

  async function showNext() {
    if (showing || queue.length === 0) {
      return;
    }
    showing = true;
    const envelope = queue.shift();
    const text = describe(envelope);
    alertElement.textContent = text;
    alertElement.dataset.id = envelope.id;
    alertElement.classList.add("visible");
    lastShownSeq = Math.max(lastShownSeq, envelope.seq);
    localStorage.setItem(storageKey, String(lastShownSeq));
    window.__shown.push({ id: envelope.id, seq: envelope.seq, type: envelope.event.type, text });
    if (settings.has("log")) {
      // For checking the page: every alert shown, kept with the resume point so the two never disagree.
      const log = JSON.parse(localStorage.getItem("eventsubrelay.shownLog") ?? "[]");
      log.push(envelope.id);
      localStorage.setItem("eventsubrelay.shownLog", JSON.stringify(log));
    }
    connection.invoke("Ack", envelope.id).catch(() => { /* receipts are best effort */ });

    await delay(durationOf(envelope.event.type));
    alertElement.classList.remove("visible");
    await delay(gap);
    showing = false;
    showNext();
  }

  // Readable text for every catalogue event, and a fallback for anything else.
  function describe(envelope) {
    const d = envelope.data ?? {};
    const m = d.message ?? {};
    const name = d.displayName ?? d.userName ?? m.displayName ?? m.username ?? d.user?.display_name
      ?? d.user_name ?? d.user_login ?? d.from_broadcaster_user_name ?? "Someone";
    const tier = t => (t === 0 ? "Prime" : `Tier ${t ?? 1}`);
    const texts = {
      Follow: () => `${name} followed!`,
      Cheer: () => `${name} cheered ${m.bits ?? d.bits ?? 0} bits!`,
      Raid: () => `${name} is raiding with ${d.viewerCount ?? 0} viewers!`,
      StreamUpdate: () => `Now: ${d.status ?? ""}${d.game?.name ? ` (${d.game.name})` : ""}`,
      Sub: () => `${name} subscribed (${tier(d.subTier)})!`,
      ReSub: () => `${name} resubscribed for ${d.cumulativeMonths ?? 0} months!`,
      GiftSub: () => `${d.isAnonymous ? "An anonymous gifter" : name} gifted a sub${d.recipientDisplayName ?? d.recipientUsername ? ` to ${d.recipientDisplayName ?? d.recipientUsername}` : ""}!`,
      GiftBomb: () => `${d.isAnonymous ? "An anonymous gifter" : name} gifted ${d.gifts ?? 0} subs!`,
      HypeTrainStart: () => `A hype train has started! Level ${d.level ?? 1}`,
      HypeTrainUpdate: () => `Hype train: ${Math.round((d.percent ?? 0) * 100)}% of level ${d.level ?? 1}`,
      HypeTrainLevelUp: () => `Hype train reached level ${d.level ?? ""}!`,
      HypeTrainEnd: () => `The hype train ended at level ${d.level ?? ""}!`,
      RewardRedemption: () => `${name} redeemed ${d.rewardName ?? d.reward?.title ?? "a reward"}!`,
      RewardCreated: () => `New reward: ${d.rewardName ?? d.title ?? ""}`,
      RewardUpdated: () => `Reward updated: ${d.rewardName ?? d.title ?? ""}`,
      RewardDeleted: () => `Reward removed: ${d.rewardName ?? d.title ?? ""}`,
      RewardRedemptionUpdated: () => `${name}'s redemption is ${d.status ?? "updated"}`,
      PollCreated: () => `Poll: ${d.title ?? ""}`,
      PollUpdated: () => `Poll: ${d.title ?? ""}`,
      PollCompleted: () => `Poll ended: ${d.title ?? ""}`,
      PollTerminated: () => `Poll ended early: ${d.title ?? ""}`,
      PollArchived: () => `Poll archived: ${d.title ?? ""}`,
      PredictionCreated: () => `Prediction: ${d.title ?? ""}`,
      PredictionUpdated: () => `Prediction: ${d.title ?? ""}`,
      PredictionLocked: () => `Predictions locked: ${d.title ?? ""}`,
      PredictionCompleted: () => `Prediction resolved: ${d.title ?? ""}`,
      PredictionCanceled: () => `Prediction canceled: ${d.title ?? ""}`,
      ChatMessage: () => `${name}: ${m.message ?? ""}`,
      FirstWord: () => `Welcome, ${name}!`,
      Whisper: () => `Whisper from ${name}`,
      AdRun: () => `Ad break: ${d.length ?? 0} seconds`,
      GoalBegin: () => `New goal: ${d.description ?? d.type ?? ""}`,
      GoalProgress: () => `Goal: ${d.currentAmount ?? d.current_amount ?? 0} / ${d.targetAmount ?? d.target_amount ?? 0}`,
      GoalEnd: () => `Goal ${d.achieved ?? d.is_achieved ? "reached" : "ended"}!`,
      "channel.follow": () => `${name} followed!`,
      "channel.cheer": () => `${d.is_anonymous ? "Anonymous" : name} cheered ${d.bits ?? 0} bits!`,
      "channel.raid": () => `${name} is raiding with ${d.viewers ?? 0} viewers!`,
      "channel.subscribe": () => `${name} subscribed!`,
    };
    const text = texts[envelope.event.type];
    return text ? text() : `${envelope.event.type}${name !== "Someone" ? `: ${name}` : ""}`;
  }

  function setConnected(connected) {
    statusElement.hidden = connected;
    document.body.dataset.connected = String(connected);
    if (connected) {
      showNotice(null);
    }
  }

  // A relay that answers "no" is not a relay that is down: a rejected token (401) and too many invalid tokens
  // from this address (429) are said in words for a few seconds, each time a connection attempt gets them.
  const notices = {
    401: ["unauthorized", "Overlay token rejected (401): check the token in this URL, or create a new one"],
    429: ["rate-limited", "Too many invalid overlay tokens from this address (429): retrying in a minute"],
  };
  let noticeTimer = 0;

  function explain(error) {
    const match = /Status code '(\d{3})'/.exec(String(error?.message ?? error ?? ""));
    const status = error?.statusCode ?? (match ? Number(match[1]) : 0);
    if (notices[status]) {
      showNotice(notices[status]);
    }
  }

  function showNotice(notice) {
    clearTimeout(noticeTimer);
    noticeElement.hidden = notice === null;
    noticeElement.dataset.state = notice?.[0] ?? "";
    noticeElement.textContent = notice?.[1] ?? "";
    document.body.dataset.notice = notice?.[0] ?? "";
    if (notice !== null) {
      noticeTimer = setTimeout(() => showNotice(null), noticeSeconds * 1000);
    }
  }

  function backoff(attempt) {
    return Math.min(30000, 500 * 2 ** Math.min(attempt, 6)) + Math.random() * 500;
  }

  function delay(ms) {
    return new Promise(resolve => setTimeout(resolve, ms));
  }

  // A short, stable key per token, so tokens never land in storage.
  function hash(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) {
      h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    }
    return (h >>> 0).toString(16);
  }
})();
