using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using EventSubRelay.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace EventSubRelay.IntegrationTests;

/// <summary>
/// <c>docker-compose.certificate.yml</c> does what the README says: the settings it gives the relay are the ones the
/// relay reads, so the key ring is encrypted with the mounted certificate.
/// </summary>
public sealed partial class ComposeCertificateTests
{
    [Fact]
    public async Task The_certificate_override_makes_the_relay_encrypt_its_key_ring_with_the_mounted_certificate()
    {
        var compose = File.ReadAllText(Path.Combine(Repository.Root, "docker-compose.certificate.yml"));
        var environment = EnvironmentEntry().Matches(compose).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim('"'));
        var secret = SecretEntry().Match(compose).Groups[1].Value;
        var mounted = $"/run/secrets/{secret}";
        var passwordVariable = PasswordVariable().Match(compose).Groups[1].Value;

        secret.Should().NotBeEmpty("the certificate reaches the container as a compose secret");
        environment.Should().ContainValue(mounted, "one setting names the file where compose mounts the secret");
        passwordVariable.Should().NotBeEmpty("the password comes from .env");
        File.ReadAllText(Path.Combine(Repository.Root, "README.md")).Should().Contain(passwordVariable).And.Contain(secret);

        using var key = RSA.Create(2048);
        using var certificate = new CertificateRequest("CN=EventSubRelay data protection", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(Path.GetTempPath(), $"esr-{Guid.NewGuid():N}.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, "compose-password"));
        try
        {
            // As compose passes them: environment variables (Section__Key), the secret at its mount point, here a file.
            var settings = environment.ToDictionary(
                e => e.Key.Replace("__", ":", StringComparison.Ordinal),
                e => (string?)(e.Value == mounted ? path : e.Value.StartsWith("${" + passwordVariable, StringComparison.Ordinal) ? "compose-password" : e.Value));
            await using var relay = await RelayFactory.StartAsync(settings);

            relay.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("compose").Protect("a token");

            var ring = await Database.ScalarAsync<string>(relay.ConnectionString, "SELECT string_agg(xml, '') FROM data_protection_keys");
            ring.Should().Contain("EncryptedKey").And.NotContain("<masterKey", "the key material is encrypted with the certificate")
                .And.Contain(Convert.ToBase64String(certificate.RawData), "with this certificate");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [GeneratedRegex(@"^      (\w+): (.+)$", RegexOptions.Multiline)]
    private static partial Regex EnvironmentEntry();

    [GeneratedRegex(@"^    secrets:\s*\n\s+- (\S+)$", RegexOptions.Multiline)]
    private static partial Regex SecretEntry();

    [GeneratedRegex(@"\$\{(\w+):\?")]
    private static partial Regex PasswordVariable();
}
