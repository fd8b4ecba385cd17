using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class InstanceOwnership : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ingested_by",
                table: "notifications",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ingested_by",
                table: "notifications");
        }
    }
}
