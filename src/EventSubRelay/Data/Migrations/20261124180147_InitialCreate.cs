using System;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "channel_state",
                columns: table => new
                {
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    title = table.Column<string>(type: "text", nullable: true),
                    category_id = table.Column<string>(type: "text", nullable: true),
                    category_name = table.Column<string>(type: "text", nullable: true),
                    stream_id = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_channel_state", x => x.broadcaster_user_id);
                });

            migrationBuilder.CreateTable(
                name: "eventsub_subscriptions",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    type = table.Column<string>(type: "text", nullable: false),
                    version = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_eventsub_subscriptions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "gift_bombs",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    tier = table.Column<int>(type: "integer", nullable: false),
                    gifter_user_id = table.Column<string>(type: "text", nullable: true),
                    gifter_login = table.Column<string>(type: "text", nullable: true),
                    gifter_name = table.Column<string>(type: "text", nullable: true),
                    is_anonymous = table.Column<bool>(type: "boolean", nullable: false),
                    total = table.Column<int>(type: "integer", nullable: false),
                    remaining = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_gift_bombs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "hype_trains",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    level = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_hype_trains", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "notifications",
                columns: table => new
                {
                    message_id = table.Column<string>(type: "text", nullable: false),
                    seq = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    subscription_id = table.Column<string>(type: "text", nullable: false),
                    subscription_type = table.Column<string>(type: "text", nullable: false),
                    subscription_version = table.Column<string>(type: "text", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: true),
                    message_timestamp = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    retry_count = table.Column<int>(type: "integer", nullable: false),
                    payload = table.Column<JsonDocument>(type: "jsonb", nullable: false),
                    delivered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ingested_by = table.Column<long>(type: "bigint", nullable: false, defaultValue: 0L)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_notifications", x => x.message_id);
                });

            migrationBuilder.CreateTable(
                name: "overlay_connections",
                columns: table => new
                {
                    connection_id = table.Column<string>(type: "text", nullable: false),
                    instance_key = table.Column<long>(type: "bigint", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    token_id = table.Column<Guid>(type: "uuid", nullable: false),
                    token_name = table.Column<string>(type: "text", nullable: false),
                    connected_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    subscribed_types = table.Column<string[]>(type: "text[]", nullable: false),
                    subscribed_since_seq = table.Column<long[]>(type: "bigint[]", nullable: false),
                    last_ack_id = table.Column<string>(type: "text", nullable: true),
                    last_ack_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_overlay_connections", x => x.connection_id);
                });

            migrationBuilder.CreateTable(
                name: "overlay_events",
                columns: table => new
                {
                    seq = table.Column<long>(type: "bigint", nullable: false),
                    id = table.Column<string>(type: "text", nullable: true),
                    notification_message_id = table.Column<string>(type: "text", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    type = table.Column<string>(type: "text", nullable: false),
                    is_test = table.Column<bool>(type: "boolean", nullable: false),
                    time_stamp = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    data = table.Column<JsonDocument>(type: "jsonb", nullable: false),
                    dedup_key = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_overlay_events", x => x.seq);
                });

            migrationBuilder.CreateTable(
                name: "overlay_tokens",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    token_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_overlay_tokens", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "stream_chatters",
                columns: table => new
                {
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    stream_id = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_stream_chatters", x => new { x.broadcaster_user_id, x.stream_id, x.user_id });
                });

            migrationBuilder.CreateIndex(
                name: "IX_gift_bombs_broadcaster_user_id_tier_created_at",
                table: "gift_bombs",
                columns: new[] { "broadcaster_user_id", "tier", "created_at" });

            migrationBuilder.CreateIndex(
                name: "IX_notifications_received_at",
                table: "notifications",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "ix_notifications_seq",
                table: "notifications",
                column: "seq",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_notifications_undelivered",
                table: "notifications",
                column: "seq",
                filter: "delivered_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_connections_broadcaster_user_id",
                table: "overlay_connections",
                column: "broadcaster_user_id");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_connections_instance_key",
                table: "overlay_connections",
                column: "instance_key");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_broadcaster_user_id_dedup_key",
                table: "overlay_events",
                columns: new[] { "broadcaster_user_id", "dedup_key" },
                unique: true,
                filter: "dedup_key IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_broadcaster_user_id_seq",
                table: "overlay_events",
                columns: new[] { "broadcaster_user_id", "seq" });

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_id",
                table: "overlay_events",
                column: "id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_notification_message_id",
                table: "overlay_events",
                column: "notification_message_id");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_time_stamp",
                table: "overlay_events",
                column: "time_stamp");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_tokens_broadcaster_user_id",
                table: "overlay_tokens",
                column: "broadcaster_user_id");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_tokens_token_hash",
                table: "overlay_tokens",
                column: "token_hash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "channel_state");

            migrationBuilder.DropTable(
                name: "eventsub_subscriptions");

            migrationBuilder.DropTable(
                name: "gift_bombs");

            migrationBuilder.DropTable(
                name: "hype_trains");

            migrationBuilder.DropTable(
                name: "notifications");

            migrationBuilder.DropTable(
                name: "overlay_connections");

            migrationBuilder.DropTable(
                name: "overlay_events");

            migrationBuilder.DropTable(
                name: "overlay_tokens");

            migrationBuilder.DropTable(
                name: "stream_chatters");
        }
    }
}
