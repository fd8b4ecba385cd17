using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EventSubRelay.IntegrationTests.Infrastructure;
using Serilog.Events;
using Xunit.Abstractions;

namespace EventSubRelay.IntegrationTests;

/// <summary>Runs alone, so the process's managed memory is the relay's and this test's.</summary>
[CollectionDefinition(nameof(FuzzTests), DisableParallelization = true)]
public sealed class FuzzCollection;

/// <summary>
/// Seeded, bounded fuzzing of every door the relay has, over real HTTP to a real relay: valid signed notifications
/// mixed with mutated ones (headers, signatures, bodies), other paths, methods and hub negotiations, and a few
/// malformed framings on raw sockets. No request may get a 5xx or write an Error log, every valid notification
/// acknowledged reaches the subscribed overlay, and memory comes back after a collection.
/// </summary>
[Collection(nameof(FuzzTests))]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Requests = 2_000;
    private const int MaxBodyBytes = 64 * 1024;

    /// <summary>Set <c>EVENTSUBRELAY_FUZZ_SEED</c> to rerun a failing seed.</summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("EVENTSUBRELAY_FUZZ_SEED"), CultureInfo.InvariantCulture, out var seed) ? seed : 20261207;

    /// <summary>What may stay after the run: the captured logs, the overlay's received events, caches (11 MiB measured).</summary>
    private const long MemoryMarginBytes = 32L * 1024 * 1024;

    [Fact]
    public async Task Fuzzed_requests_get_no_5xx_and_no_error_log_valid_notifications_all_arrive_and_memory_returns()
    {
        await using var relay = await RelayFactory.StartAsync(new Dictionary<string, string?>
        {
            ["EventSub:MaxBodyBytes"] = MaxBodyBytes.ToString(CultureInfo.InvariantCulture),
        });
        var broadcaster = TwitchWebhook.NewBroadcasterId();
        await using var overlay = await relay.SubscribedOverlayAsync(broadcaster);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // Lets header values carry bytes above 0x7f, as a hostile client's would.
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
        })
        { BaseAddress = relay.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var cases = new FuzzCases(broadcaster, overlay.Token);

        // Warm up, then take the baseline.
        var warmUp = await relay.SendNotificationAsync(broadcaster);
        await overlay.ReceivedBeforeAsync(warmUp);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        var started = Stopwatch.StartNew();
        var failures = new ConcurrentQueue<string>();
        var acknowledged = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var unanswered = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Requests), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var fuzzCase = cases.Make(i);
            int status;
            try
            {
                status = fuzzCase.Raw is { } raw ? await SendRawAsync(relay.BaseAddress, raw, fuzzCase.HalfClose) : await SendAsync(client, fuzzCase.Request!);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or SocketException or TaskCanceledException)
            {
                // Kestrel may close a connection instead of answering (a header too large, say); that is no 5xx.
                unanswered.Enqueue($"{fuzzCase.Name} ({exception.GetType().Name})");
                return;
            }

            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            if (status >= 500)
            {
                failures.Enqueue($"case {i} ({fuzzCase.Name}): {status}");
            }

            if (fuzzCase.ValidMessageId is { } id)
            {
                if (status == 204)
                {
                    acknowledged.Enqueue(id);
                }
                else
                {
                    failures.Enqueue($"case {i} ({fuzzCase.Name}): a valid notification got {status}");
                }
            }
        });
        var sending = started.Elapsed;

        var marker = await relay.SendNotificationAsync(broadcaster);
        var delivered = (await overlay.ReceivedBeforeAsync(marker, TimeSpan.FromSeconds(30))).Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var missing = acknowledged.Where(id => !delivered.Contains(id)).ToList();
        // Errors, and anything logged with a stack trace: a client's bad request is not the relay's failure. Kestrel,
        // rarely, ends a connection whose client stopped sending mid-body with a warning of its own (once in a dozen
        // runs); that one is counted, not failed.
        static bool KestrelEndedAbnormally(LogEvent e) => e.MessageTemplate.Text.StartsWith("Connection processing ended abnormally", StringComparison.Ordinal);
        var kestrelWarnings = relay.Logs.Events.Count(KestrelEndedAbnormally);
        var errors = relay.Logs.Events.Where(e => e.Level >= LogEventLevel.Error || e.Level == LogEventLevel.Warning && e.Exception is not null && !KestrelEndedAbnormally(e))
            .Select(e => e.RenderMessage(CultureInfo.InvariantCulture) + " " + e.Exception?.GetType().Name).ToList();
        var after = GC.GetTotalMemory(forceFullCollection: true);

        var context = $"seed {Seed} (EVENTSUBRELAY_FUZZ_SEED={Seed} reruns it)";
        output.WriteLine($"{context}: {Requests} requests in {sending.TotalSeconds:F1} s; statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}; "
            + $"{unanswered.Count} closed without an answer ({string.Join(", ", unanswered.Distinct())}); {acknowledged.Count} valid notifications acknowledged, {acknowledged.Count - missing.Count} delivered; "
            + $"Kestrel warnings on abandoned connections {kestrelWarnings}; managed memory {baseline / 1024 / 1024} MiB before, {after / 1024 / 1024} MiB after");
        failures.Should().BeEmpty(context);
        missing.Should().BeEmpty($"{context}: every acknowledged valid notification reaches the overlay");
        errors.Should().BeEmpty($"{context}: no request writes an Error log or a stack trace");
        // Kestrel takes a client that stops sending for one that has gone, and may close without answering it.
        unanswered.Should().OnlyContain(name => name.Contains("then no more sent", StringComparison.Ordinal),
            $"{context}: every request is answered, except a raw one whose client stopped sending");
        acknowledged.Should().HaveCountGreaterThan(Requests / 5, $"{context}: the mix has valid notifications");
        after.Should().BeLessThan(baseline + MemoryMarginBytes, $"{context}: memory returns near its baseline ({baseline} bytes) after a full collection");
    }

    private static async Task<int> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            return (int)response.StatusCode;
        }
    }

    /// <summary>Writes bytes as they are to a new connection and reads the status code of the answer.</summary>
    private static async Task<int> SendRawAsync(Uri relay, byte[] request, bool halfClose)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(relay.Host, relay.Port, timeout.Token);
        await socket.SendAsync(request, timeout.Token);
        if (halfClose)
        {
            socket.Shutdown(SocketShutdown.Send);
        }

        var buffer = new byte[64];
        var read = 0;
        int n;
        while (read < 12 && (n = await socket.ReceiveAsync(buffer.AsMemory(read), timeout.Token)) > 0)
        {
            read += n;
        }

        var statusLine = Encoding.ASCII.GetString(buffer, 0, read);
        return statusLine.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(statusLine.AsSpan(9, 3), CultureInfo.InvariantCulture, out var status)
            ? status
            : throw new IOException($"No status line: '{statusLine}'");
    }

    /// <summary>A generated request: through HttpClient, or raw bytes on a socket; with the message id when it is a valid notification.</summary>
    private sealed record FuzzCase(string Name, HttpRequestMessage? Request, byte[]? Raw = null, string? ValidMessageId = null, bool HalfClose = false);

    /// <summary>Case <c>i</c> of a seed is always the same request (its own random source), whatever ran before it.</summary>
    private sealed class FuzzCases(string broadcaster, string token)
    {
        private static readonly string[] Headers = ["Twitch-Eventsub-Message-Id", "Twitch-Eventsub-Message-Timestamp", "Twitch-Eventsub-Message-Type", "Twitch-Eventsub-Message-Signature"];

        public FuzzCase Make(int index)
        {
            var random = new Random(unchecked((Seed * 100_003) + index));
            var roll = random.Next(100);
            return roll switch
            {
                < 30 => Valid(random),
                < 55 => MutatedBody(random),
                < 75 => MutatedHeaders(random),
                < 97 => OtherRequest(random),
                _ => RawFraming(random),
            };
        }

        private FuzzCase Valid(Random random)
        {
            var id = NewId(random);
            var (type, version, body) = random.Next(3) switch
            {
                0 => ("channel.chat.message", "1", TwitchWebhook.NotificationBody(broadcaster, "channel.chat.message", "1", TwitchWebhook.ChatEvent(broadcaster, RandomText(random, 200)))),
                1 => ("channel.cheer", "1", TwitchWebhook.NotificationBody(broadcaster, "channel.cheer", "1")),
                _ => ("channel.follow", "2", TwitchWebhook.NotificationBody(broadcaster)),
            };
            return new($"valid {type}", Notification(Encoding.UTF8.GetBytes(body), id), ValidMessageId: id);
        }

        private FuzzCase MutatedBody(Random random)
        {
            var valid = TwitchWebhook.NotificationBody(broadcaster);
            var (name, body) = random.Next(17) switch
            {
                0 => ("NUL in a string", Utf8(valid.Replace("\"Awesome_User\"", "\"a\\u0000b\"", StringComparison.Ordinal))),
                1 => ("lone surrogate", Utf8(valid.Replace("\"Awesome_User\"", "\"a\\ud800b\"", StringComparison.Ordinal))),
                2 => ("invalid UTF-8", [.. Utf8(valid[..20]), 0xC3, 0x28, 0xFF, .. Utf8(valid[20..])]),
                3 => ("huge number", Utf8(valid.Replace("\"bits\":100", random.Next(2) == 0 ? "\"bits\":1e1000000" : $"\"bits\":{new string('9', 400)}", StringComparison.Ordinal))),
                4 => ("huge id", Utf8(valid.Replace($"\"broadcaster_user_id\":\"{broadcaster}\"", $"\"broadcaster_user_id\":\"{new string('1', random.Next(257, 5_000))}\"", StringComparison.Ordinal))),
                5 => ("truncated", Utf8(valid[..random.Next(valid.Length)])),
                6 => ("oversize", Utf8(valid.Replace("Awesome_User", new string('x', MaxBodyBytes), StringComparison.Ordinal))),
                7 => ("random bytes", RandomBytes(random, random.Next(0, 2_000))),
                8 => ("deep nesting", Utf8(valid.Replace("\"viewers\":42", $"\"viewers\":{new string('[', 5_000)}{new string(']', 5_000)}", StringComparison.Ordinal))),
                9 => ("subscription a string", Utf8("{\"subscription\":\"x\",\"event\":{}}")),
                10 => ("event an array", Utf8(JsonMutate(valid, o => o["event"] = new JsonArray(1, 2)))),
                11 => ("no subscription", Utf8(JsonMutate(valid, o => o.Remove("subscription")))),
                12 => ("type a number", Utf8(JsonMutate(valid, o => o["subscription"]!["type"] = 42))),
                13 => ("condition null", Utf8(JsonMutate(valid, o => o["subscription"]!["condition"] = null))),
                14 => ("empty events[]", Utf8(Batched(0))),
                15 => ("1001 events[]", Utf8(Batched(1_001))),
                _ => ("byte order mark", [0xEF, 0xBB, 0xBF, .. Utf8(valid)]),
            };
            return new($"body: {name}", Notification(body, NewId(random)));
        }

        private FuzzCase MutatedHeaders(Random random)
        {
            var body = Utf8(TwitchWebhook.NotificationBody(broadcaster));
            var id = NewId(random);
            return random.Next(14) switch
            {
                0 => new("missing header", Notification(body, id, without: Headers[random.Next(Headers.Length)])),
                1 => new("flipped signature", Notification(body, id, signature: s => s[..^1] + (s[^1] == '0' ? '1' : '0'))),
                2 => new("signature scheme", Notification(body, id, signature: s => "sha1=" + s[7..])),
                3 => new("signature garbage", Notification(body, id, signature: _ => RandomText(random, random.Next(0, 300)))),
                4 => new("signature 10 KB", Notification(body, id, signature: s => s + new string('a', 10_000))),
                5 => new("timestamp garbage", Notification(body, id, timestamp: RandomText(random, 30))),
                6 => new("timestamp an hour old", Notification(body, id, timestamp: TwitchWebhook.Timestamp(DateTimeOffset.UtcNow.AddHours(-1)))),
                7 => new("timestamp year 9999", Notification(body, id, timestamp: "9999-12-31T23:59:59.999Z")),
                8 => new("message type unknown", Notification(body, id, messageType: RandomText(random, 20))),
                9 => new("revocation of a notification body", Notification(body, id, messageType: "revocation")),
                10 => new("verification without challenge", Notification(body, id, messageType: "webhook_callback_verification")),
                11 => new("message id over its bound", Notification(body, new string('m', random.Next(257, 4_000)))),
                12 => new("non-ASCII header", Notification(body, "id-\u00e9\u00ff-" + id)),
                _ => new("content type", Notification(body, id, contentType: random.Next(3) switch { 0 => "text/plain", 1 => "multipart/form-data; boundary=x", _ => "application/json; charset=latin1" })),
            };
        }

        private FuzzCase OtherRequest(Random random)
        {
            var segment = Uri.EscapeDataString(RandomText(random, random.Next(1, 40)));
            var garbageToken = RandomText(random, random.Next(1, 80));
            return random.Next(16) switch
            {
                0 => new("random path under /eventsub", Request(HttpMethod.Post, $"/eventsub/{segment}", Utf8("{}"))),
                1 => new("random path under /api", Request(RandomMethod(random), $"/api/{segment}", RandomBytes(random, 100))),
                2 => new("other method on /eventsub", Request(RandomMethod(random), "/eventsub", Utf8(TwitchWebhook.NotificationBody(broadcaster)))),
                3 => new("test alert, bad JSON", Request(HttpMethod.Post, "/api/test-alerts", RandomBytes(random, 50), token)),
                4 => new("test alert, unknown type", Request(HttpMethod.Post, "/api/test-alerts", Utf8($"{{\"type\":\"{segment}\"}}"), token)),
                5 => new("test alert, garbage token", Request(HttpMethod.Post, "/api/test-alerts", Utf8("{\"type\":\"Follow\"}"), garbageToken)),
                6 => new("test alert, NUL type", Request(HttpMethod.Post, "/api/test-alerts", Utf8("{\"type\":\"Fo\\u0000llow\"}"), token)),
                7 => new("status, garbage token", Request(HttpMethod.Get, "/api/overlays/status", null, garbageToken)),
                8 => new("negotiate, no token", Request(HttpMethod.Post, "/hubs/overlay/negotiate?negotiateVersion=1", null)),
                9 => new("negotiate, bad version", Request(HttpMethod.Post, $"/hubs/overlay/negotiate?negotiateVersion={segment}", RandomBytes(random, 30), token)),
                10 => new("negotiate, huge version", Request(HttpMethod.Post, "/hubs/overlay/negotiate?negotiateVersion=99999999999999999999", null, token)),
                11 => new("poll of an unknown connection", Request(HttpMethod.Get, $"/hubs/overlay?id={segment}", null, token)),
                12 => new("send to an unknown connection", Request(HttpMethod.Post, $"/hubs/overlay?id={segment}", RandomBytes(random, 200), token)),
                13 => new("hub GET without upgrade", Request(HttpMethod.Get, "/hubs/overlay", null, token)),
                14 => new("dashboard with a login error", Request(HttpMethod.Get, $"/dashboard?loginError={segment}", null)),
                _ => new("operations", Request(HttpMethod.Get, random.Next(4) switch { 0 => "/healthz", 1 => "/readyz", 2 => "/metrics", _ => $"/overlay?{segment}" }, null)),
            };
        }

        private FuzzCase RawFraming(Random random)
        {
            var body = TwitchWebhook.NotificationBody(broadcaster);
            var (name, raw) = random.Next(4) switch
            {
                0 => ("bad chunk size", $"POST /eventsub HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{body}\r\n0\r\n\r\n"),
                1 => ("body shorter than Content-Length", $"POST /eventsub HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: {body.Length + 100}\r\n\r\n{body}"),
                2 => ("garbage request line", $"{RandomText(random, 40).Replace("\r", "", StringComparison.Ordinal)}\r\n\r\n"),
                _ => ("Content-Length and chunked", $"POST /eventsub HTTP/1.1\r\nHost: relay\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            };
            // A body shorter than its Content-Length is only known to be short when the client stops sending; the
            // others stop sending or not.
            var halfClose = name.StartsWith("body shorter", StringComparison.Ordinal) || random.Next(2) == 0;
            return new($"raw: {name}{(halfClose ? ", then no more sent" : "")}", null, Raw: Encoding.Latin1.GetBytes(raw), HalfClose: halfClose);
        }

        /// <summary>A notification signed over exactly these bytes, unless the signature is altered or a header left out.</summary>
        private static HttpRequestMessage Notification(
            byte[] body, string id, string? timestamp = null, string messageType = "notification", Func<string, string>? signature = null,
            string? without = null, string contentType = "application/json")
        {
            timestamp ??= TwitchWebhook.Timestamp(DateTimeOffset.UtcNow);
            var signed = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
                Encoding.UTF8.GetBytes(TwitchWebhook.Secret), (byte[])[.. Encoding.Latin1.GetBytes(id + timestamp), .. body]));
            var request = new HttpRequestMessage(HttpMethod.Post, "/eventsub") { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            foreach (var (header, value) in new[] { (Headers[0], id), (Headers[1], timestamp), (Headers[2], messageType), (Headers[3], signature?.Invoke(signed) ?? signed) })
            {
                if (header != without)
                {
                    request.Headers.TryAddWithoutValidation(header, value);
                }
            }

            return request;
        }

        private static HttpRequestMessage Request(HttpMethod method, string path, byte[]? body, string? bearer = null)
        {
            var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            }

            if (bearer is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {bearer}");
            }

            return request;
        }

        private string Batched(int entries) => new JsonObject
        {
            ["subscription"] = TwitchWebhook.Subscription(broadcaster, "drop.entitlement.grant", "1", "enabled"),
            ["events"] = new JsonArray([.. Enumerable.Range(0, entries).Select(i => (JsonNode)new JsonObject { ["id"] = $"e{i}", ["data"] = new JsonObject() })]),
        }.ToJsonString();

        private static string JsonMutate(string body, Action<JsonObject> mutate)
        {
            var json = JsonNode.Parse(body)!.AsObject();
            mutate(json);
            return json.ToJsonString();
        }

        private static HttpMethod RandomMethod(Random random) =>
            new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch, HttpMethod.Get, HttpMethod.Options, new HttpMethod("FUZZ") }[random.Next(6)];

        /// <summary>Printable and not: ASCII, controls, Latin-1, and characters that need escaping in JSON.</summary>
        private static string RandomText(Random random, int length)
        {
            const string alphabet = "abcXYZ019 -_.~!\"\\/{}[]:,\t\u0001\u007f\u00e9\u00ff%&?=#";
            return string.Create(length, random, (span, r) =>
            {
                for (var i = 0; i < span.Length; i++)
                {
                    span[i] = alphabet[r.Next(alphabet.Length)];
                }
            });
        }

        private static byte[] RandomBytes(Random random, int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        private static string NewId(Random random) => new Guid(RandomBytes(random, 16)).ToString();

        private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
    }
}
