using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class CheaperWritePathIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_overlay_events_notification_message_id",
                table: "overlay_events");

            migrationBuilder.DropIndex(
                name: "IX_overlay_events_time_stamp",
                table: "overlay_events");

            migrationBuilder.DropIndex(
                name: "IX_notifications_received_at",
                table: "notifications");

            migrationBuilder.DropIndex(
                name: "ix_notifications_seq",
                table: "notifications");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_time_stamp",
                table: "overlay_events",
                column: "time_stamp")
                .Annotation("Npgsql:IndexMethod", "brin");

            migrationBuilder.CreateIndex(
                name: "IX_notifications_received_at",
                table: "notifications",
                column: "received_at")
                .Annotation("Npgsql:IndexMethod", "brin");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_overlay_events_time_stamp",
                table: "overlay_events");

            migrationBuilder.DropIndex(
                name: "IX_notifications_received_at",
                table: "notifications");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_notification_message_id",
                table: "overlay_events",
                column: "notification_message_id");

            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_time_stamp",
                table: "overlay_events",
                column: "time_stamp");

            migrationBuilder.CreateIndex(
                name: "IX_notifications_received_at",
                table: "notifications",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "ix_notifications_seq",
                table: "notifications",
                column: "seq",
                unique: true);
        }
    }
}
