using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class SecondDedupKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "dedup_key",
                table: "overlay_events",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_broadcaster_user_id_dedup_key",
                table: "overlay_events",
                columns: new[] { "broadcaster_user_id", "dedup_key" },
                unique: true,
                filter: "dedup_key IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_overlay_events_broadcaster_user_id_dedup_key",
                table: "overlay_events");

            migrationBuilder.DropColumn(
                name: "dedup_key",
                table: "overlay_events");
        }
    }
}
