using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BananaLab.Core.Data.Migrations
{
    /// <summary>
    /// A run that made no image (or a provider's image that does not decode) stores <c>no_image</c>, the code every
    /// provider shares; tasks and runs stored as <c>no_image_produced</c> take it.
    /// </summary>
    public partial class NoImageCode : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("UPDATE \"Tasks\" SET \"ErrorCode\" = 'no_image' WHERE \"ErrorCode\" = 'no_image_produced';");
            migrationBuilder.Sql("UPDATE \"TaskAttempts\" SET \"ErrorCode\" = 'no_image' WHERE \"ErrorCode\" = 'no_image_produced';");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("UPDATE \"Tasks\" SET \"ErrorCode\" = 'no_image_produced' WHERE \"ErrorCode\" = 'no_image';");
            migrationBuilder.Sql("UPDATE \"TaskAttempts\" SET \"ErrorCode\" = 'no_image_produced' WHERE \"ErrorCode\" = 'no_image';");
        }
    }
}
