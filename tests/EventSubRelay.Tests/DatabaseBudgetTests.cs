using EventSubRelay.Data;
using Npgsql;

namespace EventSubRelay.Tests;

public sealed class DatabaseBudgetTests
{
    [Fact]
    public void Default_budget_is_twenty_connections_split_so_ingest_and_delivery_have_their_own()
    {
        var budget = new DatabaseBudget("Host=db", maxConnections: null);

        budget.Total.Should().Be(20);
        (budget.Ingest, budget.Delivery, budget.Shared).Should().Be((2, 4, 14));
        budget.Replays.Should().Be(7);
    }

    [Fact]
    public void Configured_max_connections_wins_over_the_connection_strings_maximum_pool_size()
    {
        new DatabaseBudget("Host=db;Maximum Pool Size=50", maxConnections: 10).Total.Should().Be(10);
        new DatabaseBudget("Host=db;Maximum Pool Size=50", maxConnections: null).Total.Should().Be(50);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(20)]
    [InlineData(100)]
    [InlineData(333)]
    public void The_pools_together_never_open_more_than_the_budget(int total)
    {
        var budget = new DatabaseBudget("Host=db", total);
        using var ingest = budget.BuildIngest();
        using var delivery = budget.BuildDelivery();
        using var shared = budget.BuildShared();

        var sizes = new[] { ingest, delivery, shared }.Select(s => new NpgsqlConnectionStringBuilder(s.ConnectionString).MaxPoolSize).ToList();

        sizes.Sum().Should().Be(total);
        sizes.Should().OnlyContain(size => size >= 1);
        budget.Replays.Should().BeLessThan(budget.Shared + 1);
    }

    [Fact]
    public void Each_pool_names_itself_in_pg_stat_activity_after_the_connection_strings_application_name()
    {
        var budget = new DatabaseBudget("Host=db;Application Name=relay-a", maxConnections: null);
        using var ingest = budget.BuildIngest();
        using var delivery = budget.BuildDelivery();

        new NpgsqlConnectionStringBuilder(ingest.ConnectionString).ApplicationName.Should().Be("relay-a/ingest");
        new NpgsqlConnectionStringBuilder(delivery.ConnectionString).ApplicationName.Should().Be("relay-a/delivery");
        new NpgsqlConnectionStringBuilder(delivery.ConnectionString).Options.Should().Contain("synchronous_commit=off");
        new NpgsqlConnectionStringBuilder(ingest.ConnectionString).Options.Should().BeNullOrEmpty("what Twitch's acknowledgement waits for is flushed to disk");
    }

    [Fact]
    public void A_budget_too_small_for_every_pool_stops_the_start_with_a_clear_message()
    {
        var start = () => new DatabaseBudget("Host=db", maxConnections: 4);

        start.Should().Throw<StartupConfigurationException>().WithMessage("*at least 5*");
    }
}
