using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class DeliveryWatermarks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "delivery_watermarks",
                columns: table => new
                {
                    instance_key = table.Column<long>(type: "bigint", nullable: false),
                    delivered_through = table.Column<long>(type: "bigint", nullable: false),
                    adopted_by = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_delivery_watermarks", x => x.instance_key);
                });

            // Each owner's watermark is the prefix of its notifications that were marked delivered: just below its first
            // undelivered one, or its last one when all are. Delivered ones above an undelivered one (lanes finish out of
            // order) are sent once more, with the same ids and sequence numbers; none is lost.
            migrationBuilder.Sql("""
                INSERT INTO delivery_watermarks (instance_key, delivered_through)
                SELECT ingested_by, COALESCE(min(seq) FILTER (WHERE delivered_at IS NULL) - 1, max(seq))
                FROM notifications GROUP BY ingested_by
                """);

            migrationBuilder.DropIndex(
                name: "ix_notifications_undelivered",
                table: "notifications");

            migrationBuilder.DropColumn(
                name: "delivered_at",
                table: "notifications");

            migrationBuilder.CreateIndex(
                name: "ix_notifications_owner",
                table: "notifications",
                columns: new[] { "ingested_by", "seq" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "delivered_at",
                table: "notifications",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.Sql("""
                UPDATE notifications n SET delivered_at = now()
                FROM delivery_watermarks w WHERE w.instance_key = n.ingested_by AND n.seq <= w.delivered_through
                """);

            migrationBuilder.DropIndex(
                name: "ix_notifications_owner",
                table: "notifications");

            migrationBuilder.DropTable(
                name: "delivery_watermarks");

            migrationBuilder.CreateIndex(
                name: "ix_notifications_undelivered",
                table: "notifications",
                column: "seq",
                filter: "delivered_at IS NULL");
        }
    }
}
