using System.Text.Json;

namespace EventSubRelay.StreamerBot;

/// <summary>A client's request: <c>{"request": "&lt;Name&gt;", "id": "…", …}</c>.</summary>
internal sealed record StreamerBotRequest(string? Name, JsonElement? Id, JsonElement Body)
{
    public static bool TryParse(ReadOnlySpan<byte> utf8, out StreamerBotRequest request)
    {
        request = null!;
        try
        {
            using var document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            var body = document.RootElement;
            if (body.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            body = body.Clone();
            var name = body.TryGetProperty("request", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            // The id is echoed as sent: the client's are strings, the docs' examples sometimes numbers.
            JsonElement? id = body.TryGetProperty("id", out var idValue) && idValue.ValueKind is JsonValueKind.String or JsonValueKind.Number ? idValue : null;
            request = new StreamerBotRequest(name, id, body);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
