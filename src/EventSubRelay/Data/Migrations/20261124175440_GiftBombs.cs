using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class GiftBombs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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

            migrationBuilder.CreateIndex(
                name: "IX_gift_bombs_broadcaster_user_id_tier_created_at",
                table: "gift_bombs",
                columns: new[] { "broadcaster_user_id", "tier", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "gift_bombs");
        }
    }
}
