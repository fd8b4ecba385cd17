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
                    delivered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_notifications", x => x.message_id);
                });

            migrationBuilder.CreateTable(
                name: "overlay_events",
                columns: table => new
                {
                    seq = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    id = table.Column<string>(type: "text", nullable: true),
                    notification_message_id = table.Column<string>(type: "text", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    type = table.Column<string>(type: "text", nullable: false),
                    is_test = table.Column<bool>(type: "boolean", nullable: false),
                    time_stamp = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    data = table.Column<JsonDocument>(type: "jsonb", nullable: false)
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
                name: "eventsub_subscriptions");

            migrationBuilder.DropTable(
                name: "notifications");

            migrationBuilder.DropTable(
                name: "overlay_events");

            migrationBuilder.DropTable(
                name: "overlay_tokens");
        }
    }
}
