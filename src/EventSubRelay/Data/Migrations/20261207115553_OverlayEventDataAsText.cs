using System.Text.Json;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <summary>
    /// Overlay event data becomes text: delivery stores the JSON it sends and replays read it back whole, so PostgreSQL
    /// no longer parses every event into jsonb (and prints it again for every replay). Rows already stored keep their
    /// data (jsonb's text form); the one query that looks inside (a reward's last description) casts.
    /// </summary>
    public partial class OverlayEventDataAsText : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "data",
                table: "overlay_events",
                type: "text",
                nullable: false,
                oldClrType: typeof(JsonDocument),
                oldType: "jsonb");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("ALTER TABLE overlay_events ALTER COLUMN data TYPE jsonb USING data::jsonb;");
        }
    }
}
