using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventSubRelay.Data.Migrations
{
    /// <inheritdoc />
    public partial class DerivationState : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "channel_state",
                columns: table => new
                {
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    title = table.Column<string>(type: "text", nullable: true),
                    category_id = table.Column<string>(type: "text", nullable: true),
                    category_name = table.Column<string>(type: "text", nullable: true),
                    stream_id = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_channel_state", x => x.broadcaster_user_id);
                });

            migrationBuilder.CreateTable(
                name: "hype_trains",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    level = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_hype_trains", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "stream_chatters",
                columns: table => new
                {
                    broadcaster_user_id = table.Column<string>(type: "text", nullable: false),
                    stream_id = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_stream_chatters", x => new { x.broadcaster_user_id, x.stream_id, x.user_id });
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "channel_state");

            migrationBuilder.DropTable(
                name: "hype_trains");

            migrationBuilder.DropTable(
                name: "stream_chatters");
        }
    }
}
