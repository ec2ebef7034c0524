using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Reporting;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Admin;
using Bunit;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Studio;

public sealed class AdminDashboardTests(BananaLabFactory app) : AdminTestContext(app), IClassFixture<BananaLabFactory>
{
    private static DateTime Utc(int day, int hour, int minute, int second = 0, int ms = 0) =>
        new(2020, 3, day, hour, minute, second, ms, DateTimeKind.Utc);

    [Fact]
    public async Task Dashboard_buckets_tasks_by_creation_hour_and_sums_charges_and_compute_time()
    {
        var user = await Get<UserService>().CreateAsync($"{Guid.NewGuid():N}@example.test", "Dash", UserRole.User, initialCredits: 0);
        await using (var db = await Get<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
        {
            GenerationTask Task(DateTime created, GenerationTaskStatus status, long? computeMs = null) => new()
            {
                Id = Guid.CreateVersion7(), UserId = user.Id, ModelId = BananaLabFactory.TestModel, Provider = "test", Prompt = "known data",
                Status = status, CreatedAt = created, ComputeDurationMs = computeMs, Width = 64, Height = 64, ImageCount = 1,
            };
            var inWindow = new[]
            {
                Task(Utc(1, 10, 5), GenerationTaskStatus.Succeeded, 1000),
                Task(Utc(1, 10, 40), GenerationTaskStatus.Succeeded, 3000),
                Task(Utc(1, 10, 59, 59, 900), GenerationTaskStatus.Failed),
                Task(Utc(1, 11, 0), GenerationTaskStatus.Blocked),
                Task(Utc(1, 12, 20), GenerationTaskStatus.Succeeded, 2000),
                Task(Utc(1, 12, 25), GenerationTaskStatus.Canceled),
            };
            // Just before the first hour of the window and just after its last: both left out.
            var outside = new[] { Task(new DateTime(2020, 2, 29, 12, 59, 59, DateTimeKind.Utc), GenerationTaskStatus.Succeeded, 9999),
                                  Task(Utc(1, 13, 0), GenerationTaskStatus.Failed) };
            db.Tasks.AddRange(inWindow);
            db.Tasks.AddRange(outside);
            CreditEntry Capture(GenerationTask task, int credits, DateTime at) => new()
            {
                UserId = user.Id, Kind = CreditEntryKind.Capture, Credits = credits, TaskId = task.Id, CreatedAt = at,
            };
            db.CreditEntries.AddRange(
                Capture(inWindow[0], 5, Utc(1, 10, 10)),
                Capture(inWindow[1], 5, Utc(1, 10, 45)),
                Capture(inWindow[4], 10, Utc(1, 12, 26)),
                Capture(outside[0], 99, new DateTime(2020, 2, 29, 12, 0, 0, DateTimeKind.Utc)));
            await db.SaveChangesAsync();
        }

        var dashboard = await Get<AdminReports>().DashboardAsync(Utc(1, 12, 30), CancellationToken.None);

        Assert.Equal(new DateTime(2020, 2, 29, 13, 0, 0, DateTimeKind.Utc), dashboard.From);
        Assert.Equal(24, dashboard.Hours.Count);
        Assert.Equal(6, dashboard.Tasks);
        Assert.Equal(3, dashboard.Succeeded);
        Assert.Equal(1, dashboard.Failed);
        Assert.Equal(1, dashboard.Blocked);
        Assert.Equal(1, dashboard.Canceled);
        Assert.Equal(0.25, dashboard.FailureRate);
        Assert.Equal(20, dashboard.CreditsCharged);
        Assert.Equal(2000, dashboard.AverageComputeMs);

        var ten = dashboard.Hours.Single(h => h.HourStart == Utc(1, 10, 0));
        Assert.Equal(2, ten.ByStatus[GenerationTaskStatus.Succeeded]);
        Assert.Equal(1, ten.ByStatus[GenerationTaskStatus.Failed]);
        Assert.Equal(10, ten.CreditsCharged);
        Assert.Equal(2000, ten.AverageComputeMs);
        var eleven = dashboard.Hours.Single(h => h.HourStart == Utc(1, 11, 0));
        Assert.Equal(1, eleven.Total);
        Assert.Equal(1, eleven.ByStatus[GenerationTaskStatus.Blocked]);
        Assert.Null(eleven.AverageComputeMs);
        var twelve = dashboard.Hours[^1];
        Assert.Equal(Utc(1, 12, 0), twelve.HourStart);
        Assert.Equal(2, twelve.Total);
        Assert.Equal(10, twelve.CreditsCharged);
        Assert.Equal(6, dashboard.Hours.Sum(h => h.Total));
    }

    [Fact]
    public async Task Dashboard_page_shows_the_last_24_hours_in_cards_and_charts()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        await SubmitAndFinishAsync(user.Id, "a sunflower field");
        await SubmitAndFinishAsync(user.Id, "this run breaks [fail]");
        await SubmitBlockedAsync(user.Id);
        RenderHosts();

        var page = Render<Dashboard>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#kpi-tasks")));
        Assert.Contains("3", page.Find("#kpi-tasks h5").TextContent);
        Assert.Contains("1 succeeded · 1 blocked", page.Find("#kpi-tasks").TextContent);
        Assert.Contains("50.0", page.Find("#kpi-failure-rate h5").TextContent);
        Assert.Contains("1 failed of 2 finished", page.Find("#kpi-failure-rate").TextContent);
        Assert.Equal("5", page.Find("#kpi-credits h5").TextContent.Trim());
        Assert.Equal("0", page.Find("#kpi-queue h5").TextContent.Trim());
        Assert.Contains("Tasks per hour by status", page.Markup);
        Assert.NotEmpty(page.FindAll("svg"));
    }
}
