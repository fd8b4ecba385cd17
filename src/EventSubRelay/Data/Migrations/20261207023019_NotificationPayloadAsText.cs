using System.Text.Json;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <summary>
    /// Notification payloads become text: the relay stores the body as Twitch sent it and reads it back whole, so
    /// PostgreSQL no longer parses every one into jsonb. Rows already stored keep their payload (jsonb's text form).
    /// </summary>
    public partial class NotificationPayloadAsText : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "payload",
                table: "notifications",
                type: "text",
                nullable: false,
                oldClrType: typeof(JsonDocument),
                oldType: "jsonb");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("ALTER TABLE notifications ALTER COLUMN payload TYPE jsonb USING payload::jsonb;");
        }
    }
}
