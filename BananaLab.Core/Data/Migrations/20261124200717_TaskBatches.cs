using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BananaLab.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class TaskBatches : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "BatchId",
                table: "Tasks",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "BatchIndex",
                table: "Tasks",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "BatchKey",
                table: "Tasks",
                type: "TEXT",
                maxLength: 260,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Tasks_BatchId",
                table: "Tasks",
                column: "BatchId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Tasks_BatchId",
                table: "Tasks");

            migrationBuilder.DropColumn(
                name: "BatchId",
                table: "Tasks");

            migrationBuilder.DropColumn(
                name: "BatchIndex",
                table: "Tasks");

            migrationBuilder.DropColumn(
                name: "BatchKey",
                table: "Tasks");
        }
    }
}
