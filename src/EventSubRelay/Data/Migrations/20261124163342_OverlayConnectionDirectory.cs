using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class OverlayConnectionDirectory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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

            migrationBuilder.CreateIndex(
                name: "IX_overlay_connections_broadcaster_user_id",
                table: "overlay_connections",
                column: "broadcaster_user_id");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_connections_instance_key",
                table: "overlay_connections",
                column: "instance_key");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "overlay_connections");
        }
    }
}
