using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BananaLab.Core.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class ModerationReviews : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Prompt",
                table: "ModerationDecisions",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReviewCategory",
                table: "ModerationDecisions",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReviewNote",
                table: "ModerationDecisions",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "ReviewRequestedAt",
                table: "ModerationDecisions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReviewVerdict",
                table: "ModerationDecisions",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "ReviewedAt",
                table: "ModerationDecisions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ReviewedBy",
                table: "ModerationDecisions",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_ModerationDecisions_ReviewVerdict_ReviewRequestedAt",
                table: "ModerationDecisions",
                columns: new[] { "ReviewVerdict", "ReviewRequestedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ModerationDecisions_ReviewVerdict_ReviewRequestedAt",
                table: "ModerationDecisions");

            migrationBuilder.DropColumn(
                name: "Prompt",
                table: "ModerationDecisions");

            migrationBuilder.DropColumn(
                name: "ReviewCategory",
                table: "ModerationDecisions");

            migrationBuilder.DropColumn(
                name: "ReviewNote",
                table: "ModerationDecisions");

            migrationBuilder.DropColumn(
                name: "ReviewRequestedAt",
                table: "ModerationDecisions");

            migrationBuilder.DropColumn(
                name: "ReviewVerdict",
                table: "ModerationDecisions");

            migrationBuilder.DropColumn(
                name: "ReviewedAt",
                table: "ModerationDecisions");

            migrationBuilder.DropColumn(
                name: "ReviewedBy",
                table: "ModerationDecisions");
        }
    }
}
