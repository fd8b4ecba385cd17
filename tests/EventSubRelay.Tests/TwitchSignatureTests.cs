using System.Text;
using EventSubRelay.Webhooks;

namespace EventSubRelay.Tests;

public sealed class TwitchSignatureTests
{
    // Vectors computed with: printf '%s%s%s' "$id" "$timestamp" "$body" | openssl dgst -sha256 -hmac "$secret"
    private const string Secret = "secret-0123456789";
    private const string MessageId = "msg-1";
    private const string Timestamp = "2026-11-24T10:00:00.123456789Z";
    private const string Body = """{"a":1}""";
    private const string OpensslHex = "3af06da33148924b9f820b12c320aca529c38795744eb55b20df621d0def9b92";

    private static readonly TwitchSignature Verifier = new([Secret]);

    [Fact]
    public void One_verifier_used_by_many_threads_at_once_judges_every_message_on_its_own()
    {
        // Each thread reuses its HMACs: a message must not leave anything behind for the next, valid or not.
        using var verifier = new TwitchSignature([Secret, "an-older-secret"]);
        var body = Encoding.UTF8.GetBytes(Body);
        var wrong = 0;
        Parallel.For(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var id = $"msg-{i}";
            var signature = TwitchSignature.Sign(i % 3 == 0 ? "an-older-secret" : Secret, id, Timestamp, body);
            var tampered = i % 2 == 0;
            if (verifier.IsValid(id, Timestamp, tampered ? Encoding.UTF8.GetBytes(Body + " ") : body, signature) == tampered)
            {
                Interlocked.Increment(ref wrong);
            }
        });

        wrong.Should().Be(0);
        verifier.IsValid(MessageId, Timestamp, body, "sha256=" + OpensslHex).Should().BeTrue();
    }

    [Fact]
    public void Accepts_the_signature_openssl_computes()
    {
        Verifier.IsValid(MessageId, Timestamp, Encoding.UTF8.GetBytes(Body), "sha256=" + OpensslHex).Should().BeTrue();
    }

    [Fact]
    public void Accepts_a_second_openssl_vector_with_a_realistic_payload()
    {
        var verifier = new TwitchSignature(["development-only-webhook-secret"]);
        var body = """{"subscription":{"type":"channel.follow"},"event":{}}""";

        verifier.IsValid("e76c6bd4-55c9-4987-8304-da1588d8988b", "2019-11-16T10:11:12.634234626Z", Encoding.UTF8.GetBytes(body),
            "sha256=1e61685b31833cf6b482c4fd300d4656efa099474c4fe6a1d204bd4fca0713df").Should().BeTrue();
    }

    [Fact]
    public void Accepts_upper_case_hex()
    {
        Verifier.IsValid(MessageId, Timestamp, Encoding.UTF8.GetBytes(Body), "sha256=" + OpensslHex.ToUpperInvariant()).Should().BeTrue();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(OpensslHex)]
    [InlineData("sha1=" + OpensslHex)]
    [InlineData("sha256:" + OpensslHex)]
    [InlineData("SHA256=" + OpensslHex)]
    [InlineData("sha256=" + "3af06da33148924b9f820b12c320aca529c38795744eb55b20df621d0def9b9")]
    [InlineData("sha256=" + "3af06da33148924b9f820b12c320aca529c38795744eb55b20df621d0def9b9200")]
    [InlineData("sha256=" + "zzf06da33148924b9f820b12c320aca529c38795744eb55b20df621d0def9b92")]
    [InlineData("sha256=" + "3af06da33148924b9f820b12c320aca529c38795744eb55b20df621d0def9b93")]
    public void Rejects_missing_malformed_or_wrong_signatures(string? header)
    {
        Verifier.IsValid(MessageId, Timestamp, Encoding.UTF8.GetBytes(Body), header).Should().BeFalse();
    }

    [Fact]
    public void Rejects_a_body_altered_by_one_byte()
    {
        var altered = Encoding.UTF8.GetBytes(Body);
        altered[^2] = (byte)'2';

        Verifier.IsValid(MessageId, Timestamp, altered, "sha256=" + OpensslHex).Should().BeFalse();
    }

    [Fact]
    public void Signs_over_the_timestamp_exactly_as_sent()
    {
        // The same instant written with fewer fraction digits is a different message.
        Verifier.IsValid(MessageId, "2026-11-24T10:00:00.123456789000Z", Encoding.UTF8.GetBytes(Body), "sha256=" + OpensslHex).Should().BeFalse();
        Verifier.IsValid("msg-2", Timestamp, Encoding.UTF8.GetBytes(Body), "sha256=" + OpensslHex).Should().BeFalse();
    }

    [Fact]
    public void Accepts_a_previous_secret_during_rotation_and_nothing_else()
    {
        var rotating = new TwitchSignature(["a-brand-new-secret", Secret]);
        var other = new TwitchSignature(["a-brand-new-secret", "yet-another-secret"]);

        rotating.IsValid(MessageId, Timestamp, Encoding.UTF8.GetBytes(Body), "sha256=" + OpensslHex).Should().BeTrue();
        other.IsValid(MessageId, Timestamp, Encoding.UTF8.GetBytes(Body), "sha256=" + OpensslHex).Should().BeFalse();
    }

    [Fact]
    public void Sign_produces_what_openssl_produces()
    {
        TwitchSignature.Sign(Secret, MessageId, Timestamp, Encoding.UTF8.GetBytes(Body)).Should().Be("sha256=" + OpensslHex);
    }
}
