using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class LinkedAccountsAndIdempotentDerivations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "first_message_id",
                table: "stream_chatters",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "previous_level",
                table: "hype_trains",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "raised_by_message_id",
                table: "hype_trains",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "previous_category_id",
                table: "channel_state",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "previous_category_name",
                table: "channel_state",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "previous_title",
                table: "channel_state",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "update_message_id",
                table: "channel_state",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    friendly_name = table.Column<string>(type: "text", nullable: true),
                    xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_protection_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "gift_claims",
                columns: table => new
                {
                    message_id = table.Column<string>(type: "text", nullable: false),
                    bomb_id = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_gift_claims", x => x.message_id);
                    table.ForeignKey(
                        name: "FK_gift_claims_gift_bombs_bomb_id",
                        column: x => x.bomb_id,
                        principalTable: "gift_bombs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "linked_accounts",
                columns: table => new
                {
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    login = table.Column<string>(type: "text", nullable: false),
                    display_name = table.Column<string>(type: "text", nullable: false),
                    broadcaster_type = table.Column<string>(type: "text", nullable: false),
                    scopes = table.Column<string[]>(type: "text[]", nullable: false),
                    protected_access_token = table.Column<string>(type: "text", nullable: false),
                    protected_refresh_token = table.Column<string>(type: "text", nullable: true),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    relink_reason = table.Column<string>(type: "text", nullable: true),
                    chosen_events = table.Column<string[]>(type: "text[]", nullable: false),
                    linked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_linked_accounts", x => x.broadcaster_user_id);
                });

            migrationBuilder.CreateTable(
                name: "subscription_blocks",
                columns: table => new
                {
                    key = table.Column<string>(type: "text", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: true),
                    cause = table.Column<string>(type: "text", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_subscription_blocks", x => x.key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_gift_claims_bomb_id",
                table: "gift_claims",
                column: "bomb_id");

            migrationBuilder.CreateIndex(
                name: "IX_subscription_blocks_broadcaster_user_id",
                table: "subscription_blocks",
                column: "broadcaster_user_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "data_protection_keys");

            migrationBuilder.DropTable(
                name: "gift_claims");

            migrationBuilder.DropTable(
                name: "linked_accounts");

            migrationBuilder.DropTable(
                name: "subscription_blocks");

            migrationBuilder.DropColumn(
                name: "first_message_id",
                table: "stream_chatters");

            migrationBuilder.DropColumn(
                name: "previous_level",
                table: "hype_trains");

            migrationBuilder.DropColumn(
                name: "raised_by_message_id",
                table: "hype_trains");

            migrationBuilder.DropColumn(
                name: "previous_category_id",
                table: "channel_state");

            migrationBuilder.DropColumn(
                name: "previous_category_name",
                table: "channel_state");

            migrationBuilder.DropColumn(
                name: "previous_title",
                table: "channel_state");

            migrationBuilder.DropColumn(
                name: "update_message_id",
                table: "channel_state");
        }
    }
}
