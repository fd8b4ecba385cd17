using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventSubRelay.Data;

internal sealed partial class RelayDbContext(DbContextOptions<RelayDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>The Data Protection key ring, shared by every instance (it encrypts stored Twitch tokens and dashboard cookies).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<LinkedAccount> LinkedAccounts => Set<LinkedAccount>();
    public DbSet<SubscriptionBlock> SubscriptionBlocks => Set<SubscriptionBlock>();
    public DbSet<StoredNotification> Notifications => Set<StoredNotification>();
    public DbSet<DeliveryWatermark> DeliveryWatermarks => Set<DeliveryWatermark>();
    public DbSet<StoredOverlayEvent> OverlayEvents => Set<StoredOverlayEvent>();
    public DbSet<OverlayToken> OverlayTokens => Set<OverlayToken>();
    public DbSet<StreamerBotCursor> StreamerBotCursors => Set<StreamerBotCursor>();
    public DbSet<EventSubSubscription> Subscriptions => Set<EventSubSubscription>();
    public DbSet<OverlayConnectionRecord> OverlayConnections => Set<OverlayConnectionRecord>();
    public DbSet<ChannelState> ChannelStates => Set<ChannelState>();
    public DbSet<StreamChatter> StreamChatters => Set<StreamChatter>();
    public DbSet<HypeTrainState> HypeTrains => Set<HypeTrainState>();
    public DbSet<OpenGiftBomb> GiftBombs => Set<OpenGiftBomb>();
    public DbSet<GiftClaim> GiftClaims => Set<GiftClaim>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(RelayDbContext).Assembly);

        // Columns are the properties' names in snake_case (MessageId -> message_id), as PostgreSQL prefers.
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(entity => entity.GetProperties()))
        {
            property.SetColumnName(SnakeCase().Replace(property.Name, "$1_$2").ToLowerInvariant());
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial System.Text.RegularExpressions.Regex SnakeCase();
}

internal sealed class StoredNotificationConfiguration : IEntityTypeConfiguration<StoredNotification>
{
    public void Configure(EntityTypeBuilder<StoredNotification> builder)
    {
        builder.ToTable("notifications");
        builder.HasKey(n => n.MessageId);
        // Unique without an index of its own: only the identity's sequence hands out values.
        builder.Property(n => n.Seq).UseIdentityAlwaysColumn();
        builder.Property(n => n.Payload).HasColumnType("text");
        builder.Property(n => n.IngestedBy).HasDefaultValue(0L);
        builder.Property(n => n.DeliveryError).HasMaxLength(StoredNotification.MaxDeliveryErrorLength);
        // The dashboard lists a channel's dead letters; there are few, so the index is small.
        builder.HasIndex(n => new { n.BroadcasterUserId, n.DeadLetteredAt }, "ix_notifications_dead_letters").HasFilter("dead_lettered_at IS NOT NULL");
        // Rows arrive in time order, so a BRIN index serves the retention job at a fraction of a B-tree's cost per insert.
        builder.HasIndex(n => n.ReceivedAt).HasMethod("brin");
        // The outbox finds each instance's notifications above its delivery watermark. An instance's rows arrive in
        // sequence order, so each insert lands at the right edge of its owner's part of the index.
        builder.HasIndex(n => new { n.IngestedBy, n.Seq }, "ix_notifications_owner");
    }
}

internal sealed class DeliveryWatermarkConfiguration : IEntityTypeConfiguration<DeliveryWatermark>
{
    public void Configure(EntityTypeBuilder<DeliveryWatermark> builder)
    {
        builder.ToTable("delivery_watermarks");
        builder.HasKey(w => w.InstanceKey);
        // Keys are random lease keys handed out by the instances themselves.
        builder.Property(w => w.InstanceKey).ValueGeneratedNever();
    }
}

internal sealed class StoredOverlayEventConfiguration : IEntityTypeConfiguration<StoredOverlayEvent>
{
    public void Configure(EntityTypeBuilder<StoredOverlayEvent> builder)
    {
        builder.ToTable("overlay_events");
        builder.HasKey(e => e.Seq);
        // Derived from the notification's sequence number (see DeliveryWorker), not generated here.
        builder.Property(e => e.Seq).ValueGeneratedNever();
        // No index on the id: an event's sequence number identifies it as well (derived from its notification's, like
        // its id), and a random text key would cost every insert a B-tree entry on a random page.
        builder.HasIndex(e => new { e.BroadcasterUserId, e.Seq });
        // Only the retention job filters on time alone; see the notifications' received_at.
        builder.HasIndex(e => e.TimeStamp).HasMethod("brin");
        builder.Property(e => e.Data).HasColumnType("text");
        // Twitch sometimes sends one logical event under two message ids: the second is not stored, so not sent.
        builder.HasIndex(e => new { e.BroadcasterUserId, e.DedupKey }).IsUnique().HasFilter("dedup_key IS NOT NULL");
    }
}

internal sealed class OverlayTokenConfiguration : IEntityTypeConfiguration<OverlayToken>
{
    public void Configure(EntityTypeBuilder<OverlayToken> builder)
    {
        builder.ToTable("overlay_tokens");
        builder.HasKey(t => t.Id);
        builder.HasIndex(t => t.BroadcasterUserId);
        builder.Property(t => t.Name).HasMaxLength(100);
        builder.HasIndex(t => t.TokenHash).IsUnique();
    }
}

internal sealed class StreamerBotCursorConfiguration : IEntityTypeConfiguration<StreamerBotCursor>
{
    public void Configure(EntityTypeBuilder<StreamerBotCursor> builder)
    {
        builder.ToTable("streamerbot_cursors");
        builder.HasKey(c => c.TokenId);
        builder.HasOne<OverlayToken>().WithMany().HasForeignKey(c => c.TokenId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EventSubSubscriptionConfiguration : IEntityTypeConfiguration<EventSubSubscription>
{
    public void Configure(EntityTypeBuilder<EventSubSubscription> builder)
    {
        builder.ToTable("eventsub_subscriptions");
        builder.HasKey(s => s.Id);
    }
}

internal sealed class OverlayConnectionRecordConfiguration : IEntityTypeConfiguration<OverlayConnectionRecord>
{
    public void Configure(EntityTypeBuilder<OverlayConnectionRecord> builder)
    {
        builder.ToTable("overlay_connections");
        builder.HasKey(c => c.ConnectionId);
        builder.HasIndex(c => c.InstanceKey);
        builder.HasIndex(c => c.BroadcasterUserId);
    }
}

internal sealed class DerivationStateConfiguration :
    IEntityTypeConfiguration<ChannelState>, IEntityTypeConfiguration<StreamChatter>, IEntityTypeConfiguration<HypeTrainState>, IEntityTypeConfiguration<OpenGiftBomb>,
    IEntityTypeConfiguration<GiftClaim>
{
    public void Configure(EntityTypeBuilder<GiftClaim> builder)
    {
        builder.ToTable("gift_claims");
        builder.HasKey(c => c.MessageId);
        builder.HasOne<OpenGiftBomb>().WithMany().HasForeignKey(c => c.BombId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<OpenGiftBomb> builder)
    {
        builder.ToTable("gift_bombs");
        builder.HasKey(g => g.Id);
        builder.HasIndex(g => new { g.BroadcasterUserId, g.Tier, g.CreatedAt });
    }

    public void Configure(EntityTypeBuilder<ChannelState> builder)
    {
        builder.ToTable("channel_state");
        builder.HasKey(c => c.BroadcasterUserId);
    }

    public void Configure(EntityTypeBuilder<StreamChatter> builder)
    {
        builder.ToTable("stream_chatters");
        builder.HasKey(c => new { c.BroadcasterUserId, c.StreamId, c.UserId });
    }

    public void Configure(EntityTypeBuilder<HypeTrainState> builder)
    {
        builder.ToTable("hype_trains");
        builder.HasKey(h => h.Id);
    }
}

internal sealed class AccountConfiguration :
    IEntityTypeConfiguration<LinkedAccount>, IEntityTypeConfiguration<SubscriptionBlock>, IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<LinkedAccount> builder)
    {
        builder.ToTable("linked_accounts");
        builder.HasKey(a => a.BroadcasterUserId);
    }

    public void Configure(EntityTypeBuilder<SubscriptionBlock> builder)
    {
        builder.ToTable("subscription_blocks");
        builder.HasKey(b => b.Key);
        builder.HasIndex(b => b.BroadcasterUserId);
    }

    public void Configure(EntityTypeBuilder<DataProtectionKey> builder)
    {
        builder.ToTable("data_protection_keys");
    }
}
