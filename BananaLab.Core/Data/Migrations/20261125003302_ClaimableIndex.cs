using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BananaLab.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class ClaimableIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Tasks_Status_CreatedAt",
                table: "Tasks");

            migrationBuilder.CreateIndex(
                name: "IX_Tasks_Claimable",
                table: "Tasks",
                columns: new[] { "CreatedAt", "Id" },
                filter: "\"Status\" = 0");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Tasks_Claimable",
                table: "Tasks");

            migrationBuilder.CreateIndex(
                name: "IX_Tasks_Status_CreatedAt",
                table: "Tasks",
                columns: new[] { "Status", "CreatedAt" });
        }
    }
}
