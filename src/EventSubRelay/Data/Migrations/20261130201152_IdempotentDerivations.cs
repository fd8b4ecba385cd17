using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class IdempotentDerivations : Migration
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

            migrationBuilder.CreateIndex(
                name: "IX_gift_claims_bomb_id",
                table: "gift_claims",
                column: "bomb_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "gift_claims");

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
