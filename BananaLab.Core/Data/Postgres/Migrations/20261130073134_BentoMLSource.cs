using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BananaLab.Core.Data.Postgres.Migrations
{
    /// <summary>
    /// The BentoML-style dialect has one name, <c>bentoml</c>: tasks and moderation decisions it stored as <c>bento</c> take it.
    /// </summary>
    public partial class BentoMLSource : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("UPDATE \"Tasks\" SET \"Source\" = 'bentoml' WHERE \"Source\" = 'bento';");
            migrationBuilder.Sql("UPDATE \"ModerationDecisions\" SET \"Source\" = 'bentoml' WHERE \"Source\" = 'bento';");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("UPDATE \"Tasks\" SET \"Source\" = 'bento' WHERE \"Source\" = 'bentoml';");
            migrationBuilder.Sql("UPDATE \"ModerationDecisions\" SET \"Source\" = 'bento' WHERE \"Source\" = 'bentoml';");
        }
    }
}
