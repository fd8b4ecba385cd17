using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace EventSubRelay.Data;

internal sealed class RelayDbContext(DbContextOptions<RelayDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>The Data Protection key ring, shared by every instance (it encrypts stored Twitch tokens and dashboard cookies).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<LinkedAccount> LinkedAccounts => Set<LinkedAccount>();
    public DbSet<SubscriptionBlock> SubscriptionBlocks => Set<SubscriptionBlock>();
    public DbSet<StoredNotification> Notifications => Set<StoredNotification>();
    public DbSet<StoredOverlayEvent> OverlayEvents => Set<StoredOverlayEvent>();
    public DbSet<OverlayToken> OverlayTokens => Set<OverlayToken>();
    public DbSet<EventSubSubscription> Subscriptions => Set<EventSubSubscription>();
    public DbSet<OverlayConnectionRecord> OverlayConnections => Set<OverlayConnectionRecord>();
    public DbSet<ChannelState> ChannelStates => Set<ChannelState>();
    public DbSet<StreamChatter> StreamChatters => Set<StreamChatter>();
    public DbSet<HypeTrainState> HypeTrains => Set<HypeTrainState>();
    public DbSet<OpenGiftBomb> GiftBombs => Set<OpenGiftBomb>();
    public DbSet<GiftClaim> GiftClaims => Set<GiftClaim>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(RelayDbContext).Assembly);
}

internal sealed class StoredNotificationConfiguration : IEntityTypeConfiguration<StoredNotification>
{
    public void Configure(EntityTypeBuilder<StoredNotification> builder)
    {
        builder.ToTable("notifications");
        builder.HasKey(n => n.MessageId);
        builder.Property(n => n.MessageId).HasColumnName("message_id");
        builder.Property(n => n.Seq).HasColumnName("seq").UseIdentityAlwaysColumn();
        builder.HasIndex(n => n.Seq, "ix_notifications_seq").IsUnique();
        builder.Property(n => n.SubscriptionId).HasColumnName("subscription_id");
        builder.Property(n => n.SubscriptionType).HasColumnName("subscription_type");
        builder.Property(n => n.SubscriptionVersion).HasColumnName("subscription_version");
        builder.Property(n => n.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.Property(n => n.MessageTimestamp).HasColumnName("message_timestamp");
        builder.Property(n => n.ReceivedAt).HasColumnName("received_at");
        builder.Property(n => n.RetryCount).HasColumnName("retry_count");
        builder.Property(n => n.Payload).HasColumnName("payload").HasColumnType("jsonb");
        builder.Property(n => n.DeliveredAt).HasColumnName("delivered_at");
        builder.Property(n => n.IngestedBy).HasColumnName("ingested_by").HasDefaultValue(0L);
        builder.HasIndex(n => n.ReceivedAt);
        // The outbox scan at start-up reads only undelivered rows.
        builder.HasIndex(n => n.Seq, "ix_notifications_undelivered").HasFilter("delivered_at IS NULL");
    }
}

internal sealed class StoredOverlayEventConfiguration : IEntityTypeConfiguration<StoredOverlayEvent>
{
    public void Configure(EntityTypeBuilder<StoredOverlayEvent> builder)
    {
        builder.ToTable("overlay_events");
        builder.HasKey(e => e.Seq);
        // Derived from the notification's sequence number (see DeliveryWorker), not generated here.
        builder.Property(e => e.Seq).HasColumnName("seq").ValueGeneratedNever();
        builder.Property(e => e.Id).HasColumnName("id");
        builder.HasIndex(e => e.Id).IsUnique();
        builder.Property(e => e.NotificationMessageId).HasColumnName("notification_message_id");
        builder.HasIndex(e => e.NotificationMessageId);
        builder.Property(e => e.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.HasIndex(e => new { e.BroadcasterUserId, e.Seq });
        builder.Property(e => e.Type).HasColumnName("type");
        builder.Property(e => e.IsTest).HasColumnName("is_test");
        builder.Property(e => e.TimeStamp).HasColumnName("time_stamp");
        builder.HasIndex(e => e.TimeStamp);
        builder.Property(e => e.Data).HasColumnName("data").HasColumnType("jsonb");
        builder.Property(e => e.DedupKey).HasColumnName("dedup_key");
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
        builder.Property(t => t.Id).HasColumnName("id");
        builder.Property(t => t.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.HasIndex(t => t.BroadcasterUserId);
        builder.Property(t => t.Name).HasColumnName("name").HasMaxLength(100);
        builder.Property(t => t.TokenHash).HasColumnName("token_hash");
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.Property(t => t.CreatedAt).HasColumnName("created_at");
        builder.Property(t => t.RevokedAt).HasColumnName("revoked_at");
    }
}

internal sealed class EventSubSubscriptionConfiguration : IEntityTypeConfiguration<EventSubSubscription>
{
    public void Configure(EntityTypeBuilder<EventSubSubscription> builder)
    {
        builder.ToTable("eventsub_subscriptions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id");
        builder.Property(s => s.Type).HasColumnName("type");
        builder.Property(s => s.Version).HasColumnName("version");
        builder.Property(s => s.Status).HasColumnName("status");
        builder.Property(s => s.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.Property(s => s.UpdatedAt).HasColumnName("updated_at");
        builder.Property(s => s.RevokedAt).HasColumnName("revoked_at");
    }
}

internal sealed class OverlayConnectionRecordConfiguration : IEntityTypeConfiguration<OverlayConnectionRecord>
{
    public void Configure(EntityTypeBuilder<OverlayConnectionRecord> builder)
    {
        builder.ToTable("overlay_connections");
        builder.HasKey(c => c.ConnectionId);
        builder.Property(c => c.ConnectionId).HasColumnName("connection_id");
        builder.Property(c => c.InstanceKey).HasColumnName("instance_key");
        builder.HasIndex(c => c.InstanceKey);
        builder.Property(c => c.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.HasIndex(c => c.BroadcasterUserId);
        builder.Property(c => c.TokenId).HasColumnName("token_id");
        builder.Property(c => c.TokenName).HasColumnName("token_name");
        builder.Property(c => c.ConnectedAt).HasColumnName("connected_at");
        builder.Property(c => c.SubscribedTypes).HasColumnName("subscribed_types");
        builder.Property(c => c.SubscribedSinceSeq).HasColumnName("subscribed_since_seq");
        builder.Property(c => c.LastAckId).HasColumnName("last_ack_id");
        builder.Property(c => c.LastAckAt).HasColumnName("last_ack_at");
        builder.Property(c => c.SeenAt).HasColumnName("seen_at");
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
        builder.Property(c => c.MessageId).HasColumnName("message_id");
        builder.Property(c => c.BombId).HasColumnName("bomb_id");
        builder.HasOne<OpenGiftBomb>().WithMany().HasForeignKey(c => c.BombId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<OpenGiftBomb> builder)
    {
        builder.ToTable("gift_bombs");
        builder.HasKey(g => g.Id);
        builder.Property(g => g.Id).HasColumnName("id");
        builder.Property(g => g.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.Property(g => g.Tier).HasColumnName("tier");
        builder.Property(g => g.GifterUserId).HasColumnName("gifter_user_id");
        builder.Property(g => g.GifterLogin).HasColumnName("gifter_login");
        builder.Property(g => g.GifterName).HasColumnName("gifter_name");
        builder.Property(g => g.IsAnonymous).HasColumnName("is_anonymous");
        builder.Property(g => g.Total).HasColumnName("total");
        builder.Property(g => g.Remaining).HasColumnName("remaining");
        builder.Property(g => g.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(g => new { g.BroadcasterUserId, g.Tier, g.CreatedAt });
    }

    public void Configure(EntityTypeBuilder<ChannelState> builder)
    {
        builder.ToTable("channel_state");
        builder.HasKey(c => c.BroadcasterUserId);
        builder.Property(c => c.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.Property(c => c.Title).HasColumnName("title");
        builder.Property(c => c.CategoryId).HasColumnName("category_id");
        builder.Property(c => c.CategoryName).HasColumnName("category_name");
        builder.Property(c => c.StreamId).HasColumnName("stream_id");
        builder.Property(c => c.UpdateMessageId).HasColumnName("update_message_id");
        builder.Property(c => c.PreviousTitle).HasColumnName("previous_title");
        builder.Property(c => c.PreviousCategoryId).HasColumnName("previous_category_id");
        builder.Property(c => c.PreviousCategoryName).HasColumnName("previous_category_name");
    }

    public void Configure(EntityTypeBuilder<StreamChatter> builder)
    {
        builder.ToTable("stream_chatters");
        builder.HasKey(c => new { c.BroadcasterUserId, c.StreamId, c.UserId });
        builder.Property(c => c.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.Property(c => c.StreamId).HasColumnName("stream_id");
        builder.Property(c => c.UserId).HasColumnName("user_id");
        builder.Property(c => c.FirstMessageId).HasColumnName("first_message_id");
    }

    public void Configure(EntityTypeBuilder<HypeTrainState> builder)
    {
        builder.ToTable("hype_trains");
        builder.HasKey(h => h.Id);
        builder.Property(h => h.Id).HasColumnName("id");
        builder.Property(h => h.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.Property(h => h.Level).HasColumnName("level");
        builder.Property(h => h.RaisedByMessageId).HasColumnName("raised_by_message_id");
        builder.Property(h => h.PreviousLevel).HasColumnName("previous_level");
    }
}

internal sealed class AccountConfiguration :
    IEntityTypeConfiguration<LinkedAccount>, IEntityTypeConfiguration<SubscriptionBlock>, IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<LinkedAccount> builder)
    {
        builder.ToTable("linked_accounts");
        builder.HasKey(a => a.BroadcasterUserId);
        builder.Property(a => a.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.Property(a => a.Login).HasColumnName("login");
        builder.Property(a => a.DisplayName).HasColumnName("display_name");
        builder.Property(a => a.BroadcasterType).HasColumnName("broadcaster_type");
        builder.Property(a => a.Scopes).HasColumnName("scopes");
        builder.Property(a => a.ProtectedAccessToken).HasColumnName("protected_access_token");
        builder.Property(a => a.ProtectedRefreshToken).HasColumnName("protected_refresh_token");
        builder.Property(a => a.ExpiresAt).HasColumnName("expires_at");
        builder.Property(a => a.RelinkReason).HasColumnName("relink_reason");
        builder.Property(a => a.ChosenEvents).HasColumnName("chosen_events");
        builder.Property(a => a.LinkedAt).HasColumnName("linked_at");
        builder.Property(a => a.UpdatedAt).HasColumnName("updated_at");
    }

    public void Configure(EntityTypeBuilder<SubscriptionBlock> builder)
    {
        builder.ToTable("subscription_blocks");
        builder.HasKey(b => b.Key);
        builder.Property(b => b.Key).HasColumnName("key");
        builder.Property(b => b.BroadcasterUserId).HasColumnName("broadcaster_user_id");
        builder.Property(b => b.Cause).HasColumnName("cause");
        builder.Property(b => b.At).HasColumnName("at");
        builder.HasIndex(b => b.BroadcasterUserId);
    }

    public void Configure(EntityTypeBuilder<DataProtectionKey> builder)
    {
        builder.ToTable("data_protection_keys");
        builder.Property(k => k.Id).HasColumnName("id");
        builder.Property(k => k.FriendlyName).HasColumnName("friendly_name");
        builder.Property(k => k.Xml).HasColumnName("xml");
    }
}
