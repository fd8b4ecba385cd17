using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <summary>
    /// The unique index on <c>overlay_events.id</c> goes: an event's sequence number (its primary key, derived from its
    /// notification's like the id) identifies it as well, and redelivery looks events up by it. The index cost every
    /// stored event an entry on a random page of a text B-tree.
    /// </summary>
    public partial class OverlayEventsWithoutIdIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_overlay_events_id",
                table: "overlay_events");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_overlay_events_id",
                table: "overlay_events",
                column: "id",
                unique: true);
        }
    }
}
