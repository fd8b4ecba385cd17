using EventSubRelay.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EventSubRelay.Tests;

public sealed class DatabaseExtensionsTests
{
    [Fact]
    public void Relay_defaults_skip_the_pool_reset_and_prepare_repeated_statements()
    {
        var settings = new NpgsqlConnectionStringBuilder(DatabaseExtensions.WithRelayDefaults("Host=db;Username=relay;Password=secret"));

        settings.NoResetOnClose.Should().BeTrue();
        settings.MaxAutoPrepare.Should().BeGreaterThan(0);
        settings.GssEncryptionMode.Should().Be(GssEncryptionMode.Disable, "the container has no Kerberos library and the relay never uses it");
        settings.Host.Should().Be("db");
        settings.Password.Should().Be("secret");
    }

    [Fact]
    public void Settings_in_the_connection_string_win_over_the_relay_defaults()
    {
        var settings = new NpgsqlConnectionStringBuilder(DatabaseExtensions.WithRelayDefaults("Host=db;No Reset On Close=false;Max Auto Prepare=0;Gss Encryption Mode=Prefer"));

        settings.NoResetOnClose.Should().BeFalse();
        settings.GssEncryptionMode.Should().Be(GssEncryptionMode.Prefer);
        settings.MaxAutoPrepare.Should().Be(0);
    }

    [Fact]
    public void The_checked_in_migrations_match_the_model()
    {
        // No connection is opened: the model is compared with the last migration's snapshot.
        using var db = new RelayDbContext(new DbContextOptionsBuilder<RelayDbContext>().UseNpgsql("Host=unused").Options);

        db.Database.HasPendingModelChanges().Should().BeFalse("a model change needs a migration: EventSubRelay add-migration <Name>");
    }
}
